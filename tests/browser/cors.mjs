// tests/browser/cors.mjs - a real browser against the portcullis stack:
// Debian's chromium, headless, driven by playwright-core.  Run by
// tests/integration/41_browser.sh, which passes (environment):
//
//   APP_ORIGIN     the allowed, same-site origin the page is served from,
//                  exactly as in CORS_ALLOWED_ORIGINS (https://app.example.test)
//   API_HOST       the API's name, on the same site (api.example.test)
//   HTTPS_PORT     the stack's HTTPS port (the API is https://API_HOST:HTTPS_PORT)
//   BASE           the stack for server-side checks (https://localhost:HTTPS_PORT)
//   TLS_CERT, TLS_KEY   the stack's self-signed pair; the pages use it too
//   FOREIGN_HOST   another site serving the same page (evil.example.net)
//   CHROMIUM       the browser (/usr/bin/chromium)
//
// Chromium resolves APP, API and FOREIGN host to loopback through
// --host-resolver-rules (everything else to nothing).  The pages are served
// here, over HTTPS on a loopback address of their own: the allowed page on
// APP_ORIGIN's port, the foreign one on a free port.
//
// Allowed page: register, log in with cookies, read and write data (each
// non-simple request preflighted, the preflight answered by the web server),
// If-Match / If-None-Match, exposed headers, refresh, log out.  Foreign page
// (same browser, same cookie jar, the session live): the same calls fail in
// the browser (CORS), carry no cookie (SameSite=Strict), and change nothing,
// as checked from the server side with a bearer session afterwards.
//
// Prints "ok - ..." / "not ok - ..." and "# ..." lines; exit 0 when every
// check passed, 1 otherwise, 3 when APP_ORIGIN's port cannot be bound.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import https from 'node:https';
import { randomBytes, randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';

const env = process.env;
function need(name) {
  if (!env[name]) {
    console.log(`not ok - cors.mjs needs ${name} in the environment`);
    process.exit(1);
  }
  return env[name];
}
const APP_ORIGIN = need('APP_ORIGIN');
const API_PORT = Number(need('HTTPS_PORT'));
const API_HOST = need('API_HOST');
const BASE = need('BASE').replace(/\/$/, '');
const TLS = { cert: fs.readFileSync(need('TLS_CERT')), key: fs.readFileSync(need('TLS_KEY')) };
const FOREIGN_HOST = env.FOREIGN_HOST || 'evil.example.net';
const CHROMIUM = env.CHROMIUM || '/usr/bin/chromium';
const API = `https://${API_HOST}:${API_PORT}`;
const appURL = new URL(APP_ORIGIN);
const APP_HOST = appURL.hostname;
const APP_PORT = Number(appURL.port || 443);
const T0 = Date.now();

// ---- reporting ----
let failures = 0;
let checks = 0;
function ok(what) { checks++; console.log(`ok - ${what}`); }
function notOk(what) { checks++; failures++; console.log(`not ok - ${what}`); }
function check(cond, what, detail) {
  if (cond) ok(what);
  else notOk(detail === undefined ? what : `${what} (${typeof detail === 'string' ? detail : JSON.stringify(detail)})`);
  return !!cond;
}
function eq(got, want, what) {
  return check(isDeepStrictEqual(got, want), what, `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
const note = (s) => console.log(`# ${s}`);
const short = (r) => JSON.stringify(r).slice(0, 300);

// ---- the pages ----
// One page for both origins: it knows the API and offers window.api().
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>portcullis browser test</title></head>
<body><h1>portcullis browser test</h1>
<script>
const API = ${JSON.stringify(API)};
// api(METHOD, PATH, {json, body, headers, mode, credentials}) - one fetch;
// {status, type, headers, data, text} or {error} when the browser refuses.
window.api = async function (method, path, opts = {}) {
  const init = { method, mode: opts.mode || 'cors', credentials: opts.credentials || 'include',
                 cache: 'no-store', headers: Object.assign({}, opts.headers || {}) };
  if (opts.json !== undefined) {
    init.body = JSON.stringify(opts.json);
    init.headers['Content-Type'] = 'application/json';
  } else if (opts.body !== undefined) {
    init.body = opts.body;
  }
  try {
    const r = await fetch(API + path, init);
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
    return { status: r.status, type: r.type, headers: Object.fromEntries(r.headers), data, text };
  } catch (e) {
    return { error: String(e) };
  }
};
</script></body></html>
`;

function servePage(req, res) {
  if (req.method === 'GET' && (req.url === '/' || req.url.startsWith('/?'))) {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(PAGE);
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not here\n');
  }
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(server.address().port); });
  });
}

// A loopback address of the pages' own (all of 127/8 is loopback on Linux),
// so the allowed page may have port 443 even where something else has
// 127.0.0.1:443.
let PAGE_ADDR;
const appServer = https.createServer(TLS, servePage);
const foreignServer = https.createServer(TLS, servePage);
let FOREIGN_ORIGIN;
try {
  for (let i = 0; ; i++) {
    PAGE_ADDR = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
    try {
      await listen(appServer, APP_PORT, PAGE_ADDR);
      break;
    } catch (e) {
      if (e.code !== 'EADDRINUSE' || i >= 5) throw e;
    }
  }
  const fport = await listen(foreignServer, 0, PAGE_ADDR);
  FOREIGN_ORIGIN = `https://${FOREIGN_HOST}:${fport}`;
} catch (e) {
  // Exit status 3: the allowed page's port cannot be had (EACCES, or taken);
  // 41_browser.sh then allows an origin on a free port instead.
  note(`cannot serve the page for ${APP_ORIGIN} on a loopback address, port ${APP_PORT}: ${e.code || e}`);
  process.exit(3);
}
note(`allowed page ${APP_ORIGIN}/ and foreign page ${FOREIGN_ORIGIN}/ served from ${PAGE_ADDR}; API ${API}`);

// ---- server-side requests (node, not the browser) ----
function server(method, path, { json, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const body = json === undefined ? null : Buffer.from(JSON.stringify(json));
    const h = Object.assign({}, headers);
    if (body) { h['Content-Type'] = 'application/json'; h['Content-Length'] = body.length; }
    else if (method === 'POST') h['Content-Length'] = 0;
    const req = https.request(BASE + path, { method, headers: h, rejectUnauthorized: false, timeout: 20000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, data, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// ---- network observation (DevTools protocol) ----
// Per page: every request Chromium makes, preflights included, with the
// cookies it sent or withheld, the response status and headers, and the
// CORS error when it blocked one.
async function watch(context, page) {
  const reqs = new Map();
  const get = (id) => { if (!reqs.has(id)) reqs.set(id, { id }); return reqs.get(id); };
  const cdp = await context.newCDPSession(page);
  cdp.on('Network.requestWillBeSent', (e) => {
    Object.assign(get(e.requestId), { url: e.request.url, method: e.request.method, type: e.type, seq: reqs.size });
  });
  cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
    const r = get(e.requestId);
    r.sentHeaders = e.headers;
    r.cookies = (e.associatedCookies || []).map((c) => ({ name: c.cookie.name, blocked: c.blockedReasons || [] }));
  });
  cdp.on('Network.responseReceived', (e) => {
    Object.assign(get(e.requestId), { status: e.response.status, headers: lower(e.response.headers) });
  });
  cdp.on('Network.responseReceivedExtraInfo', (e) => {
    const r = get(e.requestId);
    r.rawStatus = e.statusCode;
    r.rawHeaders = lower(e.headers);
    r.blockedSetCookies = (e.blockedCookies || []).map((c) => ({ name: (c.cookie && c.cookie.name) || c.cookieLine, reasons: c.blockedReasons }));
  });
  cdp.on('Network.loadingFailed', (e) => {
    Object.assign(get(e.requestId), { failed: e.errorText, corsError: e.corsErrorStatus && e.corsErrorStatus.corsError });
  });
  await cdp.send('Network.enable');
  return { all: () => [...reqs.values()], clear: () => reqs.clear() };
}
function lower(h) {
  const o = {};
  for (const [k, v] of Object.entries(h || {})) o[k.toLowerCase()] = v;
  return o;
}
const isPreflight = (r) => r.method === 'OPTIONS' || r.type === 'Preflight';
// The observed requests to API path PATH (method METHOD, not preflights).
function actual(net, method, path) {
  return net.all().filter((r) => r.url === API + path && r.method === method && !isPreflight(r));
}
function preflights(net, path) {
  return net.all().filter((r) => r.url === API + path && isPreflight(r));
}
// The cookie header of an observed request (DevTools gives it only in the
// "extra info" event, which may come a moment after the fetch settled).
async function settled() { await new Promise((r) => setTimeout(r, 300)); }
const cookieSent = (r, name) => new RegExp(`(^|;\\s*)${name}=`).test((r && r.sentHeaders && (r.sentHeaders.Cookie || r.sentHeaders.cookie)) || '');

// ---- the browser ----
const tLaunch = Date.now();
let browser;
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60000,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--disable-extensions', '--disable-dev-shm-usage',
      '--ignore-certificate-errors',
      `--host-resolver-rules=MAP ${APP_HOST} ${PAGE_ADDR}, MAP ${FOREIGN_HOST} ${PAGE_ADDR}, MAP ${API_HOST} 127.0.0.1, MAP * ~NOTFOUND`,
    ],
  });
} catch (e) {
  notOk(`chromium (${CHROMIUM}) starts under playwright-core: ${String(e.message || e).split('\n')[0]}`);
  appServer.close(); foreignServer.close();
  process.exit(1);
}
ok(`chromium ${browser.version()} starts headless (${Date.now() - tLaunch} ms)`);

const username = `br${randomBytes(5).toString('hex')}`;
const password = `pw-${randomBytes(9).toString('base64url')}`;
const evilName = `ev${randomBytes(5).toString('hex')}`;
const noteValue = { text: 'hello from the browser', n: [1, 2.5, null], nested: { ok: true } };

try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  // The API's cookies in the browser's jar, whatever their path.
  const jar = async () => Object.fromEntries((await context.cookies())
    .filter((c) => c.domain === API_HOST).map((c) => [c.name, c]));

  // ================= the allowed, same-site page =================
  const app = await context.newPage();
  const net = await watch(context, app);
  const nav = await app.goto(APP_ORIGIN + '/');
  eq(nav && nav.status(), 200, `the page loads from ${APP_ORIGIN}`);
  eq(await app.evaluate(() => location.origin), APP_ORIGIN, 'the page\'s origin is exactly the allowed one');
  const call = (method, path, opts) => app.evaluate(([m, p, o]) => window.api(m, p, o), [method, path, opts || {}]);

  let r = await call('POST', '/api/auth/register', { json: { username, password } });
  eq(r.status, 201, 'register from the page: 201');
  eq(r.data && r.data.user && r.data.user.username, username, 'the page reads the new user');
  check(/^[A-Za-z0-9._-]{1,64}$/.test(r.headers && r.headers['x-request-id'] || ''), 'the page reads X-Request-Id (exposed)', r.headers);

  r = await call('POST', '/api/auth/login', { json: { username, password } });
  eq(r.status, 200, 'cookie login from the page: 200');
  eq(r.data && r.data.user && r.data.user.username, username, 'the login answer names the user');
  check(r.data && !('access_token' in r.data) && !('refresh_token' in r.data), 'cookie login: no token in the body', r.data);
  let cookies = await jar();
  const access = cookies['__Host-access'];
  const refresh = cookies['__Secure-refresh'];
  check(access && access.secure && access.httpOnly && access.sameSite === 'Strict' && access.path === '/',
    'the browser keeps __Host-access (Secure, HttpOnly, SameSite=Strict, Path=/)', access);
  check(refresh && refresh.secure && refresh.httpOnly && refresh.sameSite === 'Strict' && refresh.path === '/api/auth',
    'the browser keeps __Secure-refresh (Secure, HttpOnly, SameSite=Strict, Path=/api/auth)', refresh);
  eq(await app.evaluate(() => document.cookie), '', 'the page\'s script sees no cookie');

  r = await call('GET', '/api/me');
  eq(r.status, 200, 'GET /api/me with the cookie: 200');
  eq(r.data && r.data.user && r.data.user.username, username, 'GET /api/me: the logged-in user');
  await settled();
  check(cookieSent(actual(net, 'GET', '/api/me').pop(), '__Host-access'), 'the browser sent __Host-access to the API (same site)');

  r = await call('PUT', '/api/data/note', { json: noteValue });
  eq(r.status, 201, 'PUT /api/data/note: 201');
  eq(r.data && r.data.version, 1, 'PUT: version 1');
  eq(r.headers && r.headers.etag, '"1"', 'the page reads ETag (exposed)');
  check(r.headers && r.headers.ratelimit && r.headers['ratelimit-policy'], 'the page reads RateLimit and RateLimit-Policy (exposed)', r.headers);
  r = await call('PUT', '/api/data/note', { json: noteValue, headers: { 'If-Match': '"1"' } });
  eq([r.status, r.data && r.data.version, r.headers && r.headers.etag], [200, 2, '"2"'], 'PUT with If-Match "1": replaced, version 2');
  r = await call('PUT', '/api/data/note', { json: 'lost update', headers: { 'If-Match': '"1"' } });
  eq([r.status, r.data && r.data.error && r.data.error.code], [412, 'precondition_failed'], 'a stale If-Match: the page reads 412 precondition_failed');
  r = await call('GET', '/api/data/note', { headers: { 'X-Request-Id': 'browser-read-1' } });
  eq([r.status, r.headers && r.headers.etag], [200, '"2"'], 'GET /api/data/note: 200, ETag "2"');
  eq(r.data && r.data.value, noteValue, 'the value reads back as written');
  eq(r.headers && r.headers['x-request-id'], 'browser-read-1', 'X-Request-Id sent by the page is echoed');
  r = await call('GET', '/api/data/note', { headers: { 'If-None-Match': '"2"' } });
  eq(r.status, 304, 'GET with If-None-Match "2": 304');
  r = await call('PUT', '/api/data/scratch', { json: [1, 2, 3] });
  eq(r.status, 201, 'PUT /api/data/scratch: 201');
  r = await call('DELETE', '/api/data/scratch');
  eq(r.status, 204, 'DELETE /api/data/scratch: 204');
  r = await call('GET', '/api/data/scratch');
  eq([r.status, r.data && r.data.error && r.data.error.code], [404, 'not_found'], 'the deleted key: the page reads 404 not_found');
  r = await call('GET', '/api/data?limit=10');
  eq(r.status, 200, 'GET /api/data: 200');
  eq((r.data && r.data.items || []).map((i) => i.key), ['note'], 'the listing holds the one key');

  // The non-simple requests (JSON bodies, PUT, DELETE, If-Match...) went
  // through preflights the web server answered for this origin (no
  // responder: no X-Request-Id).  Chromium caches a preflight per URL for
  // Access-Control-Max-Age, so one per URL at least.
  await settled();
  for (const [methods, path] of [['POST', '/api/auth/register'], ['POST', '/api/auth/login'],
    ['PUT, GET', '/api/data/note'], ['PUT, DELETE', '/api/data/scratch']]) {
    const pf = preflights(net, path);
    const good = pf.filter((p) => p.status === 204 &&
      (p.headers || {})['access-control-allow-origin'] === APP_ORIGIN &&
      (p.headers || {})['access-control-allow-credentials'] === 'true');
    check(good.length > 0, `${methods} ${path}: preflighted, 204 for ${APP_ORIGIN} with credentials`,
      pf.map((p) => ({ status: p.status, acao: (p.headers || {})['access-control-allow-origin'] })));
    check(pf.every((p) => !(p.headers || {})['x-request-id']), `the preflight of ${path} was answered by the web server (no X-Request-Id)`);
  }
  const appFailed = net.all().filter((x) => x.failed);
  eq(appFailed.map((x) => `${x.method} ${x.url} ${x.corsError || x.failed}`), [], 'no request of the allowed page failed');

  // ================= a foreign site, same browser, live session =================
  const before = await jar();
  const foreign = await context.newPage();
  const fnet = await watch(context, foreign);
  const fnav = await foreign.goto(FOREIGN_ORIGIN + '/');
  eq(fnav && fnav.status(), 200, `the same page loads from the foreign site ${FOREIGN_ORIGIN}`);
  const fcall = (method, path, opts) => foreign.evaluate(([m, p, o]) => window.api(m, p, o), [method, path, opts || {}]);
  const attacks = [
    ['GET', '/api/me', {}],
    ['GET', '/api/data/note', {}],
    ['GET', '/api/data', {}],
    ['PUT', '/api/data/evil-put', { json: { pwned: true } }],
    ['PUT', '/api/data/note', { json: 'overwritten' }],
    ['DELETE', '/api/data/note', {}],
    ['POST', '/api/auth/register', { json: { username: evilName, password } }],
    ['POST', '/api/auth/login', { json: { username, password } }],
    ['POST', '/api/auth/password', { json: { current_password: password, new_password: password + '-evil' } }],
    ['POST', '/api/auth/refresh', {}],
    ['POST', '/api/auth/logout', {}],
  ];
  for (const [method, path, opts] of attacks) {
    r = await fcall(method, path, opts);
    check(r && r.error && /TypeError/.test(r.error), `from ${FOREIGN_ORIGIN}: ${method} ${path} is blocked by the browser`, short(r));
  }
  // no-cors: the request may go, but without cookies, and its answer is opaque.
  r = await fcall('POST', '/api/auth/logout', { mode: 'no-cors' });
  eq([r.type, r.status], ['opaque', 0], `from ${FOREIGN_ORIGIN}: a no-cors POST to logout gets only an opaque answer`);
  r = await fcall('POST', '/api/auth/password', { mode: 'no-cors', body: JSON.stringify({ current_password: password, new_password: password + '-evil' }) });
  eq([r.type, r.status], ['opaque', 0], `from ${FOREIGN_ORIGIN}: a no-cors text/plain POST to password gets only an opaque answer`);

  await settled();
  const fall = fnet.all().filter((x) => x.url && x.url.startsWith(API));
  // What the browser says about each: CORS errors, and no cookie sent.
  const sentWithCookie = fall.filter((x) => cookieSent(x, '__Host-access') || cookieSent(x, '__Secure-refresh'));
  eq(sentWithCookie.map((x) => `${x.method} ${x.url}`), [], `from ${FOREIGN_ORIGIN}: no request carried a portcullis cookie`);
  // (Chromium may list other reasons beside it, e.g. UserPreferences when
  // it blocks third-party cookies by default.)
  const withheld = fall.filter((x) => (x.cookies || []).some((c) => c.name === '__Host-access' &&
    c.blocked.some((b) => /SameSiteStrict$/.test(b))));
  check(withheld.length > 0, `from ${FOREIGN_ORIGIN}: the browser withheld the cookies for SameSite=Strict`,
    fall.map((x) => ({ m: x.method, u: x.url, c: x.cookies })).slice(0, 4));
  const fpre = fall.filter(isPreflight);
  check(fpre.length > 0 && fpre.every((p) => !(p.headers || {})['access-control-allow-origin']),
    `from ${FOREIGN_ORIGIN}: the preflights (${fpre.length}) got no Access-Control-Allow-Origin`,
    fpre.map((p) => ({ u: p.url, s: p.status, acao: (p.headers || {})['access-control-allow-origin'] })));
  const corsBlocked = fall.filter((x) => !isPreflight(x) && x.corsError).map((x) => x.corsError);
  check(corsBlocked.length >= attacks.length, `from ${FOREIGN_ORIGIN}: every cors-mode call failed with a CORS error (${[...new Set(corsBlocked)].join(', ')})`,
    corsBlocked);
  const nonSimple = fall.filter((x) => !isPreflight(x) && ['PUT', 'DELETE'].includes(x.method) && x.status);
  eq(nonSimple.map((x) => `${x.method} ${x.url} ${x.status}`), [], `from ${FOREIGN_ORIGIN}: no PUT or DELETE ever reached the server`);
  const setCookies = fall.filter((x) => /__Host-access|__Secure-refresh/.test((x.rawHeaders || {})['set-cookie'] || ''));
  for (const x of setCookies) {
    check((x.blockedSetCookies || []).length > 0, `from ${FOREIGN_ORIGIN}: the cookies cleared by ${x.method} ${x.url.slice(API.length)} were refused by the browser`,
      x.blockedSetCookies);
  }

  const after = await jar();
  eq([after['__Host-access'] && after['__Host-access'].value, after['__Secure-refresh'] && after['__Secure-refresh'].value],
    [before['__Host-access'].value, before['__Secure-refresh'].value], 'the cookie jar is as before the foreign page (nothing cleared or rotated)');

  // ---- the server's view, through a bearer session of the same user ----
  const bl = await server('POST', '/api/auth/login', { json: { username, password, token_transport: 'bearer' } });
  eq(bl.status, 200, 'server side: a bearer login with the unchanged password works (password not changed)');
  const auth = { Authorization: `Bearer ${bl.data && bl.data.access_token}` };
  let s = await server('GET', '/api/data/evil-put', { headers: auth });
  eq(s.status, 404, 'server side: the key the foreign page tried to write does not exist');
  s = await server('GET', '/api/data/note', { headers: auth });
  eq([s.status, s.data && s.data.version], [200, 2], 'server side: the note the foreign page tried to overwrite and delete is still version 2');
  eq(s.data && s.data.value, noteValue, 'server side: ... with its value');
  s = await server('GET', '/api/data', { headers: auth });
  eq((s.data && s.data.items || []).map((i) => i.key), ['note'], 'server side: the user still has exactly one key');
  s = await server('POST', '/api/auth/login', { json: { username: evilName, password, token_transport: 'bearer' } });
  eq(s.status, 401, 'server side: the user the foreign page tried to register does not exist');
  s = await server('GET', '/api/me', { headers: { Cookie: `__Host-access=${after['__Host-access'].value}` } });
  eq(s.status, 200, 'server side: the browser\'s cookie session is not logged out');

  // ================= back on the allowed page: refresh, log out =================
  r = await call('GET', '/api/me');
  eq(r.status, 200, 'the allowed page is still logged in');
  r = await call('POST', '/api/auth/refresh');
  eq(r.status, 200, 'cookie refresh from the page: 200');
  check(r.data && r.data.access_token_expires_at && !('refresh_token' in r.data), 'refresh: new expiry times, no token in the body', r.data);
  cookies = await jar();
  check(cookies['__Secure-refresh'] && cookies['__Secure-refresh'].value !== after['__Secure-refresh'].value,
    'refresh rotated the __Secure-refresh cookie');
  check(cookies['__Host-access'] && cookies['__Host-access'].value !== after['__Host-access'].value,
    'refresh set a new __Host-access cookie');
  const lastAccess = cookies['__Host-access'] && cookies['__Host-access'].value;
  const lastRefresh = cookies['__Secure-refresh'] && cookies['__Secure-refresh'].value;
  r = await call('GET', '/api/me');
  eq(r.status, 200, 'GET /api/me with the refreshed cookie: 200');
  r = await call('POST', '/api/auth/logout');
  eq(r.status, 204, 'cookie logout from the page: 204');
  cookies = await jar();
  eq(Object.keys(cookies).filter((n) => n.startsWith('__')), [], 'logout cleared both cookies in the browser');
  r = await call('GET', '/api/me');
  eq([r.status, r.data && r.data.error && r.data.error.code], [401, 'unauthenticated'], 'after logout the page reads 401 unauthenticated');
  s = await server('GET', '/api/me', { headers: { Cookie: `__Host-access=${lastAccess}` } });
  eq(s.status, 401, 'server side: the last access cookie is revoked at once');
  s = await server('POST', '/api/auth/refresh', { headers: { Cookie: `__Secure-refresh=${lastRefresh}`, Origin: APP_ORIGIN } });
  eq(s.status, 401, 'server side: the last refresh cookie no longer refreshes');
  s = await server('GET', '/api/me', { headers: auth });
  eq(s.status, 200, 'server side: the separate bearer session is untouched by the browser\'s logout');

  await context.close();

  // ================= top-level form POSTs from the foreign site =================
  // Not fetch: a navigation, which CORS does not stop.  SameSite=Strict
  // keeps the cookies out of it all the same.
  const ctx2 = await browser.newContext({ ignoreHTTPSErrors: true });
  const jar2 = async () => Object.fromEntries((await ctx2.cookies())
    .filter((c) => c.domain === API_HOST).map((c) => [c.name, c]));
  const foreign2 = await ctx2.newPage();
  const fnet2 = await watch(ctx2, foreign2);
  // formPost PATH FIELDS ENCTYPE - submits a form to the API from the
  // foreign page; the observed top-level request.
  const formPost = async (path, fields, enctype) => {
    // From the foreign page each time (a form answer that is not 204
    // replaces the page with the API's).
    await foreign2.goto(FOREIGN_ORIGIN + '/');
    fnet2.clear();
    await foreign2.evaluate(([action, f, enc]) => {
      const form = document.createElement('form');
      form.method = 'POST';
      form.action = action;
      form.enctype = enc;
      for (const [k, v] of f) {
        const i = document.createElement('input');
        i.type = 'hidden'; i.name = k; i.value = v;
        form.append(i);
      }
      document.body.append(form);
      form.submit();
    }, [API + path, fields, enctype]);
    for (let i = 0; i < 50; i++) {
      const x = fnet2.all().find((q) => q.url === API + path && q.type === 'Document' && (q.status || q.failed));
      if (x) { await settled(); return x; }
      await new Promise((res) => setTimeout(res, 100));
    }
    return null;
  };
  // Login CSRF: a text/plain form whose body reads as JSON.
  const csrfField = `{"username":${JSON.stringify(username)},"password":${JSON.stringify(password)},"x":"`;
  let f = await formPost('/api/auth/login', [[csrfField, '"}']], 'text/plain');
  check(f && f.status === 415, `a cross-site text/plain form POST to login is refused (415: not JSON)`, f && { status: f.status, failed: f.failed });
  eq(Object.keys(await jar2()), [], 'the cross-site form login set no cookie');
  // Logout by form: log in on the allowed page first.
  const app2 = await ctx2.newPage();
  await app2.goto(APP_ORIGIN + '/');
  r = await app2.evaluate(([u, p]) => window.api('POST', '/api/auth/login', { json: { username: u, password: p } }), [username, password]);
  eq(r.status, 200, 'a second browser session logs in from the allowed page');
  const session2 = (await jar2())['__Host-access'];
  f = await formPost('/api/auth/logout', [], 'application/x-www-form-urlencoded');
  check(f && f.status, 'a cross-site form POST to logout reaches the server', f && f.failed);
  check(f && !cookieSent(f, '__Host-access') && !cookieSent(f, '__Secure-refresh') &&
    (f.cookies || []).some((c) => c.blocked.some((b) => /SameSiteStrict$/.test(b))),
  '... without the cookies (withheld for SameSite=Strict)', f && f.cookies);
  s = await server('GET', '/api/me', { headers: { Cookie: `__Host-access=${session2 && session2.value}` } });
  eq(s.status, 200, 'server side: the cross-site form POST to logout did not end the session');
  const left = Object.keys(await jar2()).filter((n) => n.startsWith('__')).sort();
  const cleared = /__Host-access=;/.test((f && f.rawHeaders || {})['set-cookie'] || '');
  note(`cross-site form POST to logout: answered ${f && f.status}${cleared ? ' with cookie-clearing Set-Cookie' : ''}; ` +
    `the browser ${left.length ? `kept ${left.join(', ')}` : 'dropped both cookies (the user is logged out in the browser; the server session lives on)'}`);
  await ctx2.close();
} catch (e) {
  notOk(`the browser test ran to its end: ${String(e && e.stack || e).split('\n').slice(0, 3).join(' | ')}`);
} finally {
  await browser.close().catch(() => {});
  appServer.close();
  foreignServer.close();
}
note(`browser test: ${checks - failures} passed, ${failures} failed in ${Date.now() - T0} ms`);
process.exit(failures ? 1 : 0);
