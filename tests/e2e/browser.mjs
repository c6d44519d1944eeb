// browser: drives the Sluice console in headless Debian Chromium through playwright-core.
// Logs in with the one-time password, changes it, checks the dashboard (version, ticking uptime,
// component table with state badges), the Topics view (Kafka message browser), the Rules view, edits settings as
// admin (a secret is never shown back), logs out, and fails on any page error or
// Content-Security-Policy violation.
// Environment: SLUICE_URL, SLUICE_ONETIME, SLUICE_VERSION_EXPECTED, SHOT_DIR, CHROMIUM (optional),
// SLUICE_NEW_PASSWORD (optional: the password to change to, else a random one).
// Kafka (optional): SLUICE_KAFKA_TOPIC, a topic holding messages, makes the Topics view list it and
// show its messages (SLUICE_KAFKA_COUNT: how many; SLUICE_KAFKA_EMBEDDED=1: the in-memory badge is
// shown; SLUICE_KAFKA_TOMBSTONE=1: the newest message is a tombstone). Without it the Topics view
// must say that Kafka is not configured.
// Rules: the Rules view always opens; with SLUICE_RULES_TABLE (a table whose SLUICE_RULES_EVENTS
// recent events, rows with a text column note, are in the daemon's sample) it writes a rule for
// it, dry-runs a failing draft (errors shown), a routed one (each event's route shown) and a good
// one (before/after per event), saves it
// as version 1 and activates it.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.SLUICE_URL;
const onetime = process.env.SLUICE_ONETIME;
const version = process.env.SLUICE_VERSION_EXPECTED;
const shotDir = process.env.SHOT_DIR || '.';
const kafkaTopic = process.env.SLUICE_KAFKA_TOPIC || '';
const kafkaCount = process.env.SLUICE_KAFKA_COUNT ? Number(process.env.SLUICE_KAFKA_COUNT) : null;
const rulesTable = process.env.SLUICE_RULES_TABLE || '';
const rulesEvents = Number(process.env.SLUICE_RULES_EVENTS || 0);
if (!base || !onetime || !version) {
  console.error('browser.mjs: SLUICE_URL, SLUICE_ONETIME and SLUICE_VERSION_EXPECTED are required');
  process.exit(2);
}

let step = 0;
const ok = (msg) => console.log(`ok ${++step} - ${msg}`);
function check(cond, msg) {
  if (!cond) throw new Error(msg);
  ok(msg);
}

const profile = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
const problems = [];
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401|status of 403|status of 400|status of 409/.test(m.text())) {
      problems.push('console error: ' + m.text());
    }
    if (/Content Security Policy/i.test(m.text())) problems.push('CSP violation: ' + m.text());
  });
  const tid = (id) => page.getByTestId(id);

  // ---- login -----------------------------------------------------------------------------------
  await page.goto(base + '/');
  await tid('view-login').waitFor({ state: 'visible' });
  ok('the login form is shown');

  await tid('login-user').fill('admin');
  await tid('login-password').fill('definitely-not-the-password');
  await tid('login-submit').click();
  await tid('login-error').waitFor({ state: 'visible' });
  check((await tid('login-error').textContent()).includes('invalid user name or password'),
        'a wrong password is refused with a message');

  await tid('login-password').fill(onetime);
  await tid('login-submit').click();
  await tid('view-password').waitFor({ state: 'visible' });
  ok('the one-time password leads to the change-password form');

  // ---- password change -------------------------------------------------------------------------
  const fresh = process.env.SLUICE_NEW_PASSWORD || 'browser-test-' + Math.random().toString(36).slice(2, 10) + '-pw';
  await tid('password-current').fill(onetime);
  await tid('password-new').fill(fresh);
  await tid('password-confirm').fill(fresh + 'x');
  await tid('password-submit').click();
  await tid('password-error').waitFor({ state: 'visible' });
  check((await tid('password-error').textContent()).includes('do not match'),
        'mismatched new passwords are caught');
  await tid('password-confirm').fill(fresh);
  await tid('password-submit').click();
  await tid('view-dashboard').waitFor({ state: 'visible' });
  ok('after the change the dashboard is shown');

  // ---- dashboard -------------------------------------------------------------------------------
  await page.waitForFunction((v) => document.querySelector('[data-testid=status-version]')?.textContent === v,
                             version);
  ok(`the dashboard shows version ${version}`);
  await page.locator('[data-testid=component-row]').first().waitFor({ state: 'visible' });
  const rows = await page.locator('[data-testid=component-row]').count();
  check(rows > 0, `the component table lists ${rows} component(s)`);
  const names = await page.locator('[data-testid=component-row] td:first-child').allTextContents();
  check(names.includes('console'), 'the console component is listed');
  const badge = page.locator('[data-component=console] [data-testid=badge]');
  check((await badge.textContent()) === 'ok', 'the console component has an ok badge');
  const colour = await badge.evaluate((el) => getComputedStyle(el).backgroundColor);
  check(colour !== 'rgba(0, 0, 0, 0)' && colour !== 'rgb(107, 116, 128)', `the ok badge is coloured (${colour})`);
  const up1 = await tid('status-uptime').textContent();
  check(/^\d\d:\d\d:\d\d$|^\d+d \d\d:\d\d:\d\d$/.test(up1), `uptime is formatted (${up1})`);
  await page.waitForFunction((u) => document.querySelector('[data-testid=status-uptime]').textContent !== u,
                             up1, { timeout: 5000 });
  ok('uptime ticks');
  const updated1 = await tid('status-updated').textContent();
  await page.waitForFunction((u) => document.querySelector('[data-testid=status-updated]').textContent !== u,
                             updated1, { timeout: 12000 });
  ok('the status refreshes by itself');
  await page.screenshot({ path: join(shotDir, 'console-dashboard.png'), fullPage: true });
  ok('dashboard screenshot taken');

  // ---- topics (the Kafka message browser) ------------------------------------------------------
  await tid('nav-topics').click();
  await tid('view-topics').waitFor({ state: 'visible' });
  if (!kafkaTopic) {
    await page.waitForFunction(() =>
      /Kafka is not configured/.test(document.querySelector('[data-testid=topics-info]')?.textContent || ''));
    ok('without Kafka the Topics view says that Kafka is not configured');
    check(await tid('kafka-embedded').isHidden(), 'without Kafka there is no in-memory broker badge');
  } else {
    const row = page.locator(`[data-testid=topic-row][data-topic="${kafkaTopic}"]`);
    await row.waitFor({ state: 'visible' });
    ok(`the Topics view lists ${kafkaTopic}`);
    const countText = (await row.getByTestId('topic-messages').textContent()).replace(/\D/g, '');
    if (kafkaCount !== null) {
      check(Number(countText) === kafkaCount, `the topic row counts ${kafkaCount} messages (${countText})`);
    }
    if (process.env.SLUICE_KAFKA_EMBEDDED === '1') {
      check(await tid('kafka-embedded').isVisible(), 'the in-memory broker badge is shown');
      check((await tid('kafka-embedded').textContent()).includes('not durable'), 'the badge says "not durable"');
    }
    await row.getByTestId('topic-link').click();
    await tid('messages-card').waitFor({ state: 'visible' });
    await page.locator('[data-testid=message]').first().waitFor({ state: 'visible' });
    check(decodeURIComponent(new URL(page.url()).hash) === '#topics/' + kafkaTopic, 'the URL names the topic');
    const offsets = async () => (await page.locator('[data-testid=message]').evaluateAll(
      (els) => els.map((e) => Number(e.dataset.offset))));
    const latest = await offsets();
    const total = kafkaCount !== null ? kafkaCount : Number(countText);
    check(latest.length === Math.min(20, total), `the latest ${latest.length} messages are shown`);
    check(latest[0] === total - 1 && latest.every((o, i) => i === 0 || o === latest[i - 1] - 1),
          `newest first (offsets ${latest[0]}..${latest[latest.length - 1]})`);
    const values = await page.locator('[data-testid=message-value]').allTextContents();
    check(values.some((v) => /\n\s+"op": "[rcud]"/.test(v)), 'Debezium values are pretty-printed JSON');
    check(values.some((v) => /"after": \{/.test(v)), 'a value shows its "after" row');
    if (process.env.SLUICE_KAFKA_TOMBSTONE === '1') {
      const first = page.locator('[data-testid=message]').first();
      check(await first.evaluate((e) => e.classList.contains('tombstone')), 'the newest message is shown as a tombstone');
      check((await first.getByTestId('message-value').textContent()) === 'null', 'the tombstone value reads null');
    }
    check((await page.locator('[data-testid=message] .offset').first().textContent()).startsWith('offset '),
          'messages show their offset');
    check(((await page.locator('[data-testid=message] .time').first().textContent()) || '').length > 0,
          'messages show their time');
    await page.screenshot({ path: join(shotDir, 'console-topics.png') });   // the viewport: pages are long
    ok('topics screenshot taken');
    if (total > latest.length) {
      await tid('messages-older').click();
      await page.waitForFunction((o) => Number(document.querySelector('[data-testid=message]')?.dataset.offset) < o,
                                 latest[latest.length - 1]);
      const older = await offsets();
      check(older.length > 0 && older.every((o) => o < latest[latest.length - 1]),
            `"Older" pages back to offsets ${older[older.length - 1]}..${older[0]}`);
      await tid('messages-latest').click();
      await page.waitForFunction((o) => Number(document.querySelector('[data-testid=message]')?.dataset.offset) === o,
                                 latest[0]);
      ok('"Latest" returns to the newest messages');
    }
  }

  // ---- rules -----------------------------------------------------------------------------------
  await tid('nav-rules').click();
  await tid('view-rules').waitFor({ state: 'visible' });
  await page.waitForFunction(() => /Dry runs use the last events captured/.test(
    document.querySelector('[data-testid=rules-info]')?.textContent || ''));
  ok('the Rules view opens and tells how many events the sample holds');
  if (rulesTable) {
    await tid('rules-new').click();
    await tid('rule-editor').waitFor({ state: 'visible' });
    await tid('rule-name').fill('browser_audit');
    await tid('rule-pattern').fill(rulesTable);
    await tid('rule-comment').fill('upper-case notes');
    // A draft that fails: the dry run shows the error per event, nothing is stored.
    await tid('rule-source').fill('function transform(e)\n  error("boom from the browser")\nend\n');
    await tid('rule-dry-run').click();
    await page.locator('[data-testid=dry-error]').first().waitFor({ state: 'visible' });
    check((await page.locator('[data-testid=dry-error]').first().textContent()).includes('boom from the browser'),
          'a failing draft: the dry run shows the error of each event');
    // A draft with route(): each resulting event shows where it would go.
    await tid('rule-source').fill('function transform(e) return e end\n' +
                                  'function route(e) return {topic = "audit.exact", table = "audit.notes"} end\n');
    await tid('rule-dry-run').click();
    await page.locator('[data-testid=dry-route]').first().waitFor({ state: 'visible' });
    check((await page.locator('[data-testid=dry-route]').first().textContent()) ===
          'topic audit.exact, lake table audit.notes', 'a draft with route(): the dry run shows each event\'s route');
    await tid('rule-source').fill('function transform(e)\n  if e.after and e.after.note then\n' +
                                  '    e.after.note = string.upper(e.after.note)\n  end\n  return e\nend\n');
    await tid('rule-dry-run').click();
    // this draft's results: no route shown any more (the routed draft's were), no errors
    await page.waitForFunction(() => document.querySelector('[data-testid=rule-dry-summary]')?.dataset.errors === '0' &&
      document.querySelectorAll('[data-testid=dry-item]').length > 0 && !document.querySelector('[data-testid=dry-route]'));
    const items = page.locator('[data-testid=dry-item]');
    check((await items.count()) === rulesEvents, `the dry run shows ${rulesEvents} sampled events of ${rulesTable}`);
    const before = await items.first().getByTestId('dry-before').textContent();
    const after = await items.first().getByTestId('dry-after').textContent();
    check(/"note": "first"/.test(before) && /"note": "FIRST"/.test(after),
          'each event shows before ("first") and after ("FIRST")');
    await page.screenshot({ path: join(shotDir, 'console-rules.png'), fullPage: true });
    ok('rules screenshot taken');
    await tid('rule-save').click();
    await page.locator('[data-testid=version-row][data-version="1"]').waitFor({ state: 'visible' });
    check((await tid('banner').textContent()).includes('Saved browser_audit version 1'), 'saving stores version 1');
    check(await page.locator('[data-testid=rule-row][data-rule=browser_audit]').isVisible(), 'the rule is listed');
    await page.locator('[data-testid=version-row][data-version="1"]').getByTestId('version-activate').click();
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=version-row][data-version="1"] [data-testid=version-state]')?.textContent === 'active');
    check((await page.locator('[data-testid=rule-row][data-rule=browser_audit] [data-testid=rule-active]').textContent()) === 'v1',
          'activating version 1 shows it active in the list');
    check(/no errors/.test(await tid('banner').textContent()), 'the activation reports its clean dry run');
  }

  // ---- settings --------------------------------------------------------------------------------
  await tid('nav-settings').click();
  await tid('view-settings').waitFor({ state: 'visible' });
  await page.locator('[data-testid=setting-row]').first().waitFor({ state: 'visible' });
  const settingRows = await page.locator('[data-testid=setting-row]').count();
  check(settingRows > 5, `the settings page lists ${settingRows} settings`);

  const slotRow = page.locator('[data-testid=setting-row][data-key="source.slot"]');
  await slotRow.getByTestId('setting-edit').click();
  await slotRow.getByTestId('setting-input').fill('browser_slot');
  await slotRow.getByTestId('setting-save').click();
  await page.waitForFunction(() =>
    document.querySelector('[data-key="source.slot"] [data-testid=setting-value]')?.textContent === 'browser_slot');
  ok('an admin can edit a setting');

  const ttlRow = page.locator('[data-testid=setting-row][data-key="console.session_ttl"]');
  await ttlRow.getByTestId('setting-edit').click();
  await ttlRow.getByTestId('setting-input').fill('not a duration');
  await ttlRow.getByTestId('setting-save').click();
  await ttlRow.locator('.error').waitFor({ state: 'visible' });
  check((await ttlRow.locator('.error').textContent()).includes('console.session_ttl'),
        'an invalid value is refused with the reason');
  await ttlRow.getByTestId('setting-cancel').click();

  const secret = 'browser-secret-' + Math.random().toString(36).slice(2);
  const pwRow = page.locator('[data-testid=setting-row][data-key="source.password"]');
  await pwRow.getByTestId('setting-edit').click();
  check((await pwRow.getByTestId('setting-input').getAttribute('type')) === 'password',
        'a secret is edited in a password field');
  await pwRow.getByTestId('setting-input').fill(secret);
  await pwRow.getByTestId('setting-save').click();
  await page.waitForFunction(() =>
    /\(set\)/.test(document.querySelector('[data-key="source.password"] [data-testid=setting-value]')?.textContent || ''));
  ok('a stored secret shows as set');
  await page.reload();
  await tid('view-settings').waitFor({ state: 'visible' });
  await page.locator('[data-testid=setting-row]').first().waitFor({ state: 'visible' });
  check(!(await page.content()).includes(secret), 'the secret never appears in the page');
  await page.screenshot({ path: join(shotDir, 'console-settings.png'), fullPage: true });
  ok('settings screenshot taken');

  // ---- logout ----------------------------------------------------------------------------------
  await tid('logout').click();
  await tid('view-login').waitFor({ state: 'visible' });
  ok('logout returns to the login form');
  await page.goto(base + '/#dashboard');
  await tid('view-login').waitFor({ state: 'visible' });
  ok('after logout the dashboard needs a login again');
  const cookies = await context.cookies();
  check(!cookies.some((c) => c.name === 'sluice_session' && c.value), 'the session cookie is gone');

  check(problems.length === 0, 'no page errors, console errors or CSP violations' +
        (problems.length ? ': ' + problems.join('; ') : ''));
  console.log(`browser: all ${step} checks passed`);
} catch (e) {
  console.error('FAIL: ' + e.message);
  if (problems.length) console.error('page problems: ' + problems.join('; '));
  try {
    const page = context && context.pages()[0];
    if (page) await page.screenshot({ path: join(shotDir, 'console-failure.png'), fullPage: true });
  } catch (e2) { /* the screenshot is only a help */ }
  process.exitCode = 1;
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
