// Starts browserless (from npm, `@browserless.io/browserless`) on the system Chromium, for
// tests/pool.rs and the README's recipe. It downloads no browser: Playwright's idea of where
// Chromium lives (under PLAYWRIGHT_BROWSERS_PATH) is pointed at $CHROME.
//
//   BROWSERLESS=<path to the package> CHROME=/usr/bin/chromium PORT=3000 TOKEN=… \
//     CONCURRENT=3 TIMEOUT=10000 node tests/pool/browserless.mjs
//
// Only the Chromium routes are served: the Chrome, Edge, Firefox and WebKit ones need
// browsers this machine does not have, and browserless refuses to start with them.
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const pkg = process.env.BROWSERLESS;
if (!pkg) throw new Error('set BROWSERLESS to the @browserless.io/browserless package folder');
const require = createRequire(join(pkg, 'package.json'));
// browserless reads some of its dependencies' files relative to the working folder: the one
// holding its node_modules.
process.chdir(join(pkg, '..', '..', '..'));

process.env.PLAYWRIGHT_BROWSERS_PATH ??= mkdtempSync(join(tmpdir(), 'nocall-pw-'));
const { chromium } = (await import(pathToFileURL(require.resolve('playwright-core')))).default;
const expected = chromium.executablePath();
mkdirSync(dirname(expected), { recursive: true });
try {
  symlinkSync(process.env.CHROME || '/usr/bin/chromium', expected);
} catch (e) {
  if (e.code !== 'EEXIST') throw e;
}

const { Browserless, BrowserlessRoutes } = await import(
  pathToFileURL(join(pkg, 'build', 'exports.js'))
);
const server = new Browserless();
server.disableRoutes(
  ...Object.values(BrowserlessRoutes).filter((name) => /^(Chrome|Edge|Firefox|WebKit)[A-Z]/.test(name)),
);
await server.start();
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, async () => {
    await server.stop();
    process.exit(0);
  });
}
