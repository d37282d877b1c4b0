// The recap of the booking steps, measured by Lighthouse: it is the answer to the details
// form's POST, so a plain Lighthouse navigation cannot reach it. Lighthouse's user flow
// opens the details step, fills the name and the phone, then measures the navigation the
// client triggers by pressing "Continue". Called by bench/lighthouse.py:
//
//     node bench/lighthouse_flow.mjs <details step URL> <mobile|desktop> <report.json>
//
// The report written is the recap's navigation (Lighthouse's usual JSON report).
import {writeFile} from 'node:fs/promises';

import {startFlow, desktopConfig} from 'lighthouse';
import puppeteer from 'puppeteer-core';

const [url, form, out] = process.argv.slice(2);
if (!url || !['mobile', 'desktop'].includes(form) || !out) {
  console.error('usage: lighthouse_flow.mjs <details step URL> <mobile|desktop> <report.json>');
  process.exit(2);
}

const categories = ['accessibility', 'best-practices', 'seo', 'performance'];
const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  defaultViewport: null,
});
try {
  const page = await browser.newPage();
  const base = form === 'desktop' ? desktopConfig : undefined;
  const config = {
    ...(base || {extends: 'lighthouse:default'}),
    settings: {...(base?.settings || {}), onlyCategories: categories},
  };
  const flow = await startFlow(page, {config});
  // The details step, as the client reaches it (not measured: only set up).
  await page.goto(url, {waitUntil: 'load'});
  await page.type('#id_name', 'Claire Moreau');
  await page.type('#id_phone', '06 11 22 33 44');
  // The recap: the navigation the client starts by sending the details.
  await flow.navigate(async () => {
    await page.click('#next');
  }, {name: 'recap'});
  if (!(await page.$('#recap'))) {
    throw new Error(`No recap at ${page.url()}: the details were not accepted.`);
  }
  const result = await flow.createFlowResult();
  const lhr = result.steps.at(-1).lhr;
  await writeFile(out, JSON.stringify(lhr));
} finally {
  await browser.close();
}
