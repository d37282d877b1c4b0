"""The ground every app stands on, importing nothing of the project: domain errors
(`errors`), how money, dates and languages are written for a person (`money`, `dates`,
`languages`), query parsing (`query`), the cache and its circuit breaker (`cache`), abuse
limits (`ratelimit`), retried transactions (`retry`), tasks sent on commit (`tasks`),
personal data kept out of logs (`logmask`) and moving a model between apps (`schema`)."""
