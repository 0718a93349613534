// The reports' inbox and a report's review in Chromium: anonymous
// visitors get no inbox; the Kabul report pasted into the inbox; its
// quotes, figures and dates highlighted and resolved; a draft edited (its
// headline, a figure removed) and added to the Kabul story, which then
// cites the report with its passage; another draft into a new story; a
// third report dismissed and gone from the NEW filter; a report submitted
// by GraphQL appearing in an open inbox without a reload. Run by
// tests/desk.rs:
//   node desk-reports.mjs <base url> <write token> <report json> <screenshot dir>
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';

const [base, token, reportFile, shots] = process.argv.slice(2);
const SLUG = 'kabul-airport-2021';
mkdirSync(shots, { recursive: true });
const fixture = JSON.parse(readFileSync(reportFile, 'utf8'));

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function gql(query, variables = {}) {
  const response = await fetch(base + '/graphql', { method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
    body: JSON.stringify({ query, variables }) });
  const answer = await response.json();
  check(!answer.errors, 'GraphQL errors: ' + JSON.stringify(answer.errors));
  return answer.data;
}
const submit = (body, title) => gql('mutation($input: ReportInput!) { submitReport(input: $input) { report { id } } }',
  { input: { body, title, publisher: 'Test Wire', sourceKind: 'WIRE', publishedAt: '2024-03-07T10:00:00Z' } });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
const pageErrors = [];
page.on('pageerror', (error) => pageErrors.push(error.message));
try {
  // Anonymous: no inbox.
  await page.goto(base + '/reports');
  await page.waitForSelector('text=Enter a token to see the reports.');
  check(await page.isHidden('#inbox'), 'anonymous visitors get no inbox');

  // The token, then the Kabul report pasted into the inbox.
  await page.fill('#token-input', token);
  await page.click('#token-form button[type=submit]');
  await page.waitForSelector('#inbox:not([hidden])');
  await page.click('#submit-panel summary');
  await page.fill('#submit-form [name=title]', fixture.title);
  await page.fill('#submit-form [name=publisher]', 'Wire Desk');
  await page.selectOption('#submit-form [name=sourceKind]', 'WIRE');
  await page.fill('#submit-form [name=publishedAt]', '2021-07-13 18:00');
  await page.fill('#submit-form [name=body]', fixture.text);
  await page.click('#submit-form button[type=submit]');
  await page.waitForURL(/\/reports\/[0-9a-f-]{36}$/);
  const reportId = page.url().split('/').pop();

  // The review: every kind highlighted, each resolved.
  await page.waitForSelector('#report-text mark[data-kind="QUOTE"]');
  const marks = await page.$$eval('#report-text mark', (ms) => ms.map((m) => ({ kind: m.dataset.kind, title: m.title })));
  const ofKind = (kind) => marks.filter((m) => m.kind === kind);
  for (const kind of ['DATE', 'QUOTE', 'FIGURE', 'PLACE']) check(ofKind(kind).length > 0, `${kind} mentions are highlighted`);
  check(ofKind('DATE').some((m) => m.title.includes('13 July 2021, DAY')), `“Tuesday (July 13)” resolves to 13 July 2021: ${ofKind('DATE').map((m) => m.title)}`);
  check(ofKind('FIGURE').some((m) => /killed (> |≥ )?\d/.test(m.title)), `a toll resolves to killed and its number: ${ofKind('FIGURE').map((m) => m.title)}`);
  check(ofKind('QUOTE').some((m) => m.title.startsWith('Quote by')), 'quotes name their speaker');
  await page.focus('#report-text mark[data-kind="DATE"]');
  check((await page.textContent('#mention-detail')).includes('→'), 'focusing a mention shows what it resolved to');
  await page.screenshot({ path: `${shots}/desk-review.png`, fullPage: false });

  // A draft with figures: headline edited, a figure removed, into the
  // Kabul story.
  const withFigures = await page.$$eval('.draft', (ds) => ds.filter((d) => d.querySelector('.figure-row')).map((d) => d.dataset.draft));
  check(withFigures.length > 0, 'a draft carries figures');
  const first = `.draft[data-draft="${withFigures[0]}"]`;
  await page.fill(`${first} [name=headline]`, 'Taliban warn Turkey over Kabul airport (desk review)');
  const figuresBefore = await page.$$eval(`${first} .figure-row`, (rows) => rows.length);
  await page.click(`${first} .figure-row .remove`);
  check((await page.$$eval(`${first} .figure-row`, (rows) => rows.length)) === figuresBefore - 1, 'a figure is removed');
  const suggested = await page.$$eval(`${first} .story-picker .choice`, (cs) => cs.map((c) => c.textContent));
  const kabul = suggested.findIndex((t) => t.includes('Kabul airport security'));
  check(kabul >= 0, `the Kabul story is suggested: ${suggested}`);
  await page.check(`${first} .story-picker .choice:nth-of-type(${kabul + 1}) input`);
  // Someone else adds to the story meanwhile: the page offers to add on
  // the new version.
  const story = (await gql('query($s: String!) { story(slug: $s) { id } }', { s: SLUG })).story;
  await gql('mutation($s: UUID!) { reportDevelopment(storyId: $s, input: {headline: "Meanwhile", occurredAt: "2021-07-14T00:00:00Z"}) { story { version } } }', { s: story.id });
  await page.click(`${first} .add-to-story`);
  await page.waitForSelector(`${first} .draft-outcome button`);
  check((await page.textContent(`${first} .draft-outcome`)).includes('moved on'), 'a VERSION_CONFLICT says the story moved on');
  await page.click(`${first} .draft-outcome button`);
  await page.waitForSelector(`${first} .added-to`);
  check((await page.textContent(`${first} .added-to`)).includes(SLUG), 'the added draft says where it went');

  // Another draft, by the keyboard, into a new story.
  const second = `.draft[data-draft="${withFigures[0] === '0' ? 1 : 0}"]`;
  await page.check(`${second} .story-picker input[value="new"]`);
  await page.fill(`${second} [name=newTitle]`, 'Taliban and Turkey, desk test');
  await page.focus(`${second} [name=headline]`);
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector(`${second} .added-to`);

  // The story page cites the report, with its passage.
  await page.goto(`${base}/stories/${SLUG}`);
  await page.waitForSelector('#timeline h3:has-text("Taliban warn Turkey over Kabul airport (desk review)")');
  const entry = page.locator('#timeline > li', { hasText: 'Taliban warn Turkey over Kabul airport (desk review)' });
  check((await entry.locator('a.cited-report').getAttribute('href')) === `/reports/${reportId}`, 'the source links to its report');
  check((await entry.locator('.source-passage').count()) > 0, 'the cited passage is shown');
  const added = (await gql(`query($s: String!) { story(slug: $s) { snapshot { developments { headline figures { metric } } } } }`, { s: SLUG }))
    .story.snapshot.developments.find((d) => d.headline === 'Taliban warn Turkey over Kabul airport (desk review)');
  check(added && added.figures.length === figuresBefore - 1, 'the development went in as edited, one figure fewer');
  await page.screenshot({ path: `${shots}/desk-story-citing.png`, fullPage: false });

  // A third report dismissed leaves the NEW filter.
  const third = (await submit('The harbour reopened on Tuesday, officials said.', 'Harbour reopens')).submitReport.report.id;
  await page.goto(`${base}/reports?status=NEW`);
  await page.waitForSelector(`#reports tr[data-report="${third}"]`);
  await page.goto(`${base}/reports/${third}`);
  await page.waitForSelector('#report-head h1');
  await page.click('#dismiss-panel summary');
  await page.fill('#dismiss-form [name=reason]', 'covered by the wire');
  await page.click('#dismiss-form button[type=submit]');
  await page.waitForSelector('#report-status:has-text("dismissed")');
  await page.goto(`${base}/reports?status=NEW`);
  await page.waitForSelector('#report-count');
  await page.waitForFunction(() => document.querySelector('#reports tbody').children.length > 0);
  check(await page.locator(`#reports tr[data-report="${third}"]`).count() === 0, 'the dismissed report left the NEW filter');

  // Live: a report submitted elsewhere appears without a reload.
  await page.goto(`${base}/reports`);
  await page.waitForSelector(`#reports tr[data-report="${reportId}"]`);
  await page.waitForTimeout(500);
  const fourth = (await submit('Flights resumed at the airport on Wednesday, the ministry said.', 'Flights resume')).submitReport.report.id;
  await page.waitForSelector(`#reports tr[data-report="${fourth}"]`, { timeout: 10000 });
  await page.screenshot({ path: `${shots}/desk-inbox.png`, fullPage: true });

  check(pageErrors.length === 0, 'no script error: ' + JSON.stringify(pageErrors));
  console.log('desk-reports: ok');
} catch (error) {
  await page.screenshot({ path: `${shots}/desk-reports-failure.png`, fullPage: true }).catch(() => {});
  console.error(error.stack || String(error));
  process.exitCode = 1;
} finally {
  await browser.close();
}
