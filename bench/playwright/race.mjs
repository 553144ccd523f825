// The bundled nocall journeys, driven by Playwright the way a QA engineer would write them:
// getByLabel / getByRole, Playwright's own auto-waiting, one context per journey, N at once.
// Usage: node race.mjs BASE_URL SCENARIO_DIR JOBS
import { chromium } from 'playwright-core';
import { parse } from 'yaml';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [base, dir, jobsArg] = process.argv.slice(2);
const jobs = Number(jobsArg || 1);
const files = readdirSync(dir)
  .filter(f => /\.ya?ml$/.test(f) && !/^nocall\.ya?ml$/.test(f))
  .sort();

function value(v, holds) {
  const s = String(v);
  if (s === '{unknown}') return null;
  return s.replace(/\{env:([^}]+)\}/g, (_, n) => process.env[n] || '')
          .replace(/\{([^{}]+)\}/g, (_, n) => value(holds[n] ?? '', holds) ?? '');
}

async function field(page, label) {
  for (const loc of [page.getByLabel(label, { exact: true }), page.getByPlaceholder(label, { exact: true }),
                     page.locator(`[name="${label}"]`)]) {
    if (await loc.count()) return loc.first();
  }
  return null;
}

async function journey(browser, file) {
  const sc = parse(readFileSync(join(dir, file), 'utf8'));
  const start = new URL(new URL(sc.start).pathname, base);
  const holds = Object.fromEntries(Object.entries(sc.holds || {}).map(([k, v]) => [k, String(v)]));
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  let status = 'completed';
  try {
    for (const step of sc.steps) {
      const [kind, arg] = Object.entries(step)[0];
      if (kind === 'open') {
        await page.goto(new URL(arg, start).toString(), { waitUntil: 'load' });
      } else if (kind === 'fill' || kind === 'choose') {
        for (const [label, v] of Object.entries(arg)) {
          const text = value(v, holds);
          const loc = await field(page, label);
          if (text === null) continue;
          if (!loc) throw new Error(`no field ${label}`);
          if (kind === 'fill') await loc.fill(text);
          else if ((await loc.evaluate(e => e.tagName)) === 'SELECT') await loc.selectOption({ label: text });
          else await loc.check();
        }
      } else if (kind === 'click') {
        const name = value(arg, holds);
        let loc = page.getByRole('button', { name, exact: true });
        if (!(await loc.count())) loc = page.getByRole('link', { name, exact: true });
        await loc.first().click();
        await page.waitForLoadState('load');
      } else if (kind === 'expect') {
        const text = typeof arg === 'string' ? arg : arg.text;
        if (text) await page.getByText(value(text, holds)).first().waitFor({ timeout: 500 });
      } else if (kind === 'wait') {
        await page.waitForTimeout(parseFloat(arg) * (String(arg).endsWith('ms') ? 1 : 1000));
      }
    }
  } catch (e) {
    status = 'blocked';
  }
  await context.close();
  return [file, status];
}

const t0 = performance.now();
const browser = await chromium.launch({
  executablePath: process.env.CHROME || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run'],
});
const queue = [...files];
const results = [];
await Promise.all(Array.from({ length: jobs }, async () => {
  while (queue.length) results.push(await journey(browser, queue.shift()));
}));
await browser.close();
const ms = performance.now() - t0;
for (const [f, s] of results.sort()) console.error(`  ${s.padEnd(9)} ${f}`);
console.log(JSON.stringify({ wall_ms: Math.round(ms), journeys: results.length }));
