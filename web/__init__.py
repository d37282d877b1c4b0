"""The doors, above every domain app: the HTTP API (`api/`), the client's pages
(`pages/`), the front desk (`desk/`), the commands (`management/`), and what every
request passes through (the tenant scope, the CSP, the error answers). A door parses,
calls the domain's services and renders; it writes nothing through the ORM itself."""
