// The web desk in real Chromium (Debian's, driven by playwright-core):
// the list, a story, a replay URL, the time controls, a live event, a
// report through the form, refused writes, every export against the
// GraphQL answer for the same cut, GraphiQL offline, and no request
// leaving 127.0.0.1. Run by tests/desk.rs:
//   node desk.mjs <base url> <write token> <read token> <screenshot dir>
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [base, writeToken, readToken, shots] = process.argv.slice(2);
const SLUG = 'kabul-airport-2021';
mkdirSync(shots, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error(message);
}
function same(actual, expected, message) {
  check(JSON.stringify(actual) === JSON.stringify(expected),
    `${message}\n  expected ${JSON.stringify(expected)}\n  actual   ${JSON.stringify(actual)}`);
}

async function gql(query, variables = {}, token = null) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = 'Bearer ' + token;
  const response = await fetch(base + '/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const answer = await response.json();
  check(!answer.errors, 'GraphQL errors: ' + JSON.stringify(answer.errors));
  return answer.data;
}

async function idsAt(at = null, knownAt = null) {
  const data = await gql('query($s: String!, $at: DateTime, $k: DateTime) { story(slug: $s) { stateAt(at: $at, knownAt: $k) { developments { id headline } } } }',
    { s: SLUG, at, k: knownAt });
  return data.story.stateAt.developments.map((d) => d.id);
}

const story = (await gql('query($s: String!) { story(slug: $s) { id } }', { s: SLUG })).story;

async function report(headline, occurredAt = '2021-07-14T06:00:00Z') {
  return gql('mutation($s: UUID!, $h: String!, $o: DateTime!) { reportDevelopment(storyId: $s, input: {headline: $h, occurredAt: $o}) { story { version } } }',
    { s: story.id, h: headline, o: occurredAt }, writeToken);
}

/** RFC 4180: quoted fields may hold commas, quotes (doubled) and line breaks. */
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 1; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 1; }
    else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const requested = [];
page.on('request', (request) => requested.push(request.url()));
page.on('websocket', (socket) => requested.push(socket.url()));
const pageErrors = [];
page.on('pageerror', (error) => pageErrors.push(error.message));

const timeline = () => page.$$eval('#timeline > li[data-development]', (items) => items.map((li) => li.dataset.development));
/** Waits (up to 10 s) for the page's timeline to be `expected`, then
 *  checks it: pages re-render after their fetches, not at once. */
async function expectTimeline(expected, message) {
  await page.waitForFunction((ids) => {
    const shown = [...document.querySelectorAll('#timeline > li[data-development]')].map((li) => li.dataset.development);
    return JSON.stringify(shown) === JSON.stringify(ids);
  }, expected, { timeout: 10000 }).catch(() => {});
  same(await timeline(), expected, message);
}
async function settled() {
  await page.waitForLoadState('networkidle');
  await page.waitForSelector('#story-title');
}

try {
  // The list.
  await page.goto(base + '/');
  await page.waitForSelector(`.story-list li[data-slug="${SLUG}"]`);
  await page.screenshot({ path: `${shots}/desk-list.png`, fullPage: true });
  await page.fill('input[name=search]', 'nothingmatchesthiszzz');
  await page.click('#filters button[type=submit]');
  await page.waitForSelector('text=No story matches.');
  check(page.url().includes('search=nothingmatchesthiszzz'), 'the list puts its filters in the URL');
  await page.fill('input[name=search]', 'airport');
  await page.fill('input[name=actor]', 'taliban');
  await page.click('#filters button[type=submit]');
  await page.waitForSelector(`.story-list li[data-slug="${SLUG}"]`);

  // A story, from the list.
  await page.click(`a[href="/stories/${SLUG}"]`);
  await settled();
  await expectTimeline(await idsAt(), 'the story page shows the live timeline');
  const firstWhen = await page.textContent('#timeline > li:first-child .when');
  check(firstWhen.includes('February 2020') && !firstWhen.includes(' 1 February'), `a MONTH date shows as its month: ${firstWhen}`);
  check((await page.textContent('#figures')).includes('Afghan Foreign Ministry'), 'figures show their claimants');
  check((await page.textContent('#timeline')).includes('attributes the tolls'), 'a correction shows its reason');
  check((await page.textContent('#cut-banner')).startsWith('Live'), 'the page says it is live');
  check(await page.locator('#figures-chart svg').count() > 0, 'the figures are charted');
  const livePoints = await page.locator('#figures-chart circle.claim-point').count();
  check(livePoints > 0, 'the chart has a point for each claim');
  await page.locator('#figures-chart').screenshot({ path: `${shots}/desk-chart.png` });
  await page.waitForSelector('#map svg [data-development-id]');
  const mapped = await page.$$eval('#map [data-development-id]', (ps) => ps.map((p) => p.dataset.developmentId));
  const located = (await gql('query($s: String!) { story(slug: $s) { snapshot { developments { id location { name } } } } }', { s: SLUG }))
    .story.snapshot.developments.filter((d) => d.location).length;
  check(mapped.length >= 2 && mapped.length <= located, `the map places the developments with a place (${mapped.length} of ${located})`);
  check(await page.$eval(`#map [data-development-id="${mapped[0]}"]`, (a) => a.getAttribute('href')) === `#development-${mapped[0]}`, 'a point links to its timeline entry');
  await page.locator('#map').screenshot({ path: `${shots}/desk-map.png` });
  check(await page.isHidden('#write'), 'no token, no write controls');
  await page.screenshot({ path: `${shots}/desk-story.png`, fullPage: true });

  // A replay URL shows exactly that cut.
  const july10 = '2021-07-10T00:00:00Z';
  await page.goto(`${base}/stories/${SLUG}?at=${july10}`);
  await settled();
  await expectTimeline(await idsAt(july10), 'a replay URL shows exactly the developments of its cut');
  check((await page.textContent('#cut-banner')).includes('past cut'), 'the page says it shows a past cut');
  check(await page.locator('#figures-chart circle.claim-point').count() < livePoints, 'the chart follows the cut: fewer points on 10 July');
  await page.waitForFunction(() => document.querySelector('#map svg, #map p'));
  check(await page.locator('#map [data-development-id]').count() < mapped.length, 'the map follows the cut: fewer points on 10 July');
  await page.screenshot({ path: `${shots}/desk-story-10-july.png` });

  // The time controls change the URL and the page.
  await page.fill('#at-input', '2021-07-12T23:59:59');
  await page.dispatchEvent('#at-input', 'change');
  await page.waitForURL(/at=2021-07-12T23%3A59%3A59Z|at=2021-07-12T23:59:59Z/);
  await settled();
  await expectTimeline(await idsAt('2021-07-12T23:59:59Z'), 'the world-time control re-renders the cut');
  check((await page.inputValue('#at-input')) === '2021-07-12 23:59:59', 'the cut input shows UTC, ISO-like, no AM/PM');
  // The demo keeps when the newsroom learned each event: known on 12 July
  // at noon, the story holds what was reported on 9 July.
  const knownAt = '2021-07-12T12:00:00Z';
  check((await idsAt(null, knownAt)).length === 5, 'known on 12 July, the demo holds the five developments of 9 July');
  check((await idsAt(null, knownAt)).length < (await idsAt()).length, 'the knownAt cut leaves out what was learned later');
  await page.goto(`${base}/stories/${SLUG}?knownAt=${encodeURIComponent(knownAt)}`);
  await settled();
  await expectTimeline(await idsAt(null, knownAt), 'a knownAt URL shows what was known then');
  const head = await page.textContent('#story-head');
  check(head.includes('as known on 12 Jul 2021') && !/version \d+ of \d+/.test(head), `the header names the cut: ${head}`);
  same(await page.inputValue('#known-input'), '2021-07-12 12:00', 'the known-by input shows the cut in UTC');
  // The history stops at the cut, in words an editor reads.
  const knownThen = (await gql('query($s: String!) { story(slug: $s) { history(first: 20) { nodes { version recordedAt } } } }', { s: SLUG }))
    .story.history.nodes.filter((e) => Date.parse(e.recordedAt) <= Date.parse(knownAt)).map((e) => String(e.version));
  await page.waitForFunction((n) => document.querySelectorAll('#history tbody tr').length === n, knownThen.length);
  const historyRows = await page.$$eval('#history tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  same(historyRows.map((r) => r[0]), knownThen, 'the history shows only what was recorded by the cut');
  check(historyRows.every((r) => !/^[A-Z][a-z]+[A-Z]/.test(r[1])), `event names are readable: ${historyRows.map((r) => r[1])}`);
  same(historyRows[0][1], 'Story opened', 'the first event is the opening');
  check(historyRows.filter((r) => r[1] !== 'Development reported').every((r) => r[2] === ''), 'occurred only where it is a time in the world');
  const places = await page.$$eval('#timeline .detail', (ps) => ps.map((p) => p.textContent));
  check(!places.some((t) => /^([^,]+), \1$/.test(t)), `no place repeats itself: ${places}`);
  await page.screenshot({ path: `${shots}/desk-story-known-12-july.png`, fullPage: true });
  // The slider: all the way to the left is the first development's day.
  await page.$eval('#at-slider', (slider) => { slider.value = '0'; slider.dispatchEvent(new Event('change')); });
  await page.waitForURL(/at=2020-02-01/);
  await settled();
  await expectTimeline(await idsAt('2020-02-01T00:00:00Z', knownAt), 'the slider cuts on world time, keeping knownAt');
  await page.click('#back-to-live');
  await page.waitForURL(`${base}/stories/${SLUG}`);
  await settled();

  // Live: a report made elsewhere appears without a reload.
  await page.waitForTimeout(500);
  await report('Live wire: Kabul airport runway closed');
  await page.waitForSelector('#timeline h3:has-text("Live wire: Kabul airport runway closed")', { timeout: 10000 });
  // At a past cut the page counts new events instead.
  await page.goto(`${base}/stories/${SLUG}?at=${july10}`);
  await settled();
  await page.waitForTimeout(500);
  await report('Second wire while viewing the past');
  await page.waitForSelector('#new-events', { timeout: 10000 });

  // Writing: a token entered once shows the forms; a report goes through.
  await page.goto(`${base}/stories/${SLUG}`);
  await settled();
  check((await page.textContent('#token-panel')).includes('storyline token create'), 'the token box says where tokens come from');
  await page.fill('#token-input', writeToken);
  await page.click('#token-form button[type=submit]');
  await page.waitForSelector('#write:not([hidden])');
  check(!page.url().includes(writeToken), 'the token never goes into the URL');
  await page.fill('#report-form [name=headline]', 'Desk reports a convoy at the airport gate');
  await page.fill('#report-form [name=occurredAt]', '2021-07-14T08:00:00');
  await page.fill('#report-form [name=metric]', 'vehicles');
  await page.fill('#report-form [name=value]', '12');
  await page.fill('#report-form [name=claimedBy]', 'Airport police');
  await page.click('#report-form button[type=submit]');
  await page.waitForSelector('#write-ok:not([hidden])');
  await page.waitForSelector('#timeline h3:has-text("Desk reports a convoy at the airport gate")');
  const readAfter = await page.evaluate(() => sessionStorage.getItem('storyline-read-after'));
  check(/^[0-9A-F]+\/[0-9A-F]+$/i.test(readAfter || ''), `the desk keeps its last write's readAfter: ${readAfter}`);
  const nextRead = page.waitForRequest((r) => r.url().endsWith('/graphql') && r.method() === 'POST');
  await page.reload();
  same((await nextRead).headers()['storyline-read-after'], readAfter, 'its next reads carry it');
  await settled();
  await expectTimeline(await idsAt(), 'the reported development is on the timeline');

  // A stale page gets VERSION_CONFLICT and is offered a reload.
  await page.goto(`${base}/stories/${SLUG}?at=${july10}`);
  await settled();
  await report('Appended behind the page');
  await page.click('text=Give a verdict');
  await page.selectOption('#verdict-form [name=status]', 'CONFIRMED');
  await page.click('#verdict-form button[type=submit]');
  await page.waitForSelector('#write-error:not([hidden]) #reload');
  await page.screenshot({ path: `${shots}/desk-conflict.png` });
  await page.click('#reload');
  await page.waitForSelector('#write-error', { state: 'hidden' });

  // A read token sees the forms' refusal: FORBIDDEN, and nothing written.
  const versionNow = async () => (await gql('query($s: String!) { story(slug: $s) { version } }', { s: SLUG })).story.version;
  const before = await versionNow();
  await page.click('#forget-token');
  await page.fill('#token-input', readToken);
  await page.click('#token-form button[type=submit]');
  await page.click('text=Set the status');
  await page.selectOption('#status-form [name=status]', 'CONCLUDED');
  await page.click('#status-form button[type=submit]');
  await page.waitForSelector('#write-error:has-text("FORBIDDEN")');
  same(await versionNow(), before, 'a refused write writes nothing');

  // Exports of a cut, against GraphQL's answer for the same cut.
  const exportsAt = async (file, cut) => {
    const response = await fetch(`${base}/stories/${SLUG}/${file}${cut}`);
    check(response.ok, `${file} answers ${response.status}`);
    return response;
  };
  const cut = `?at=${july10}`;
  const hrefs = await page.$$eval('.exports a', (links) => links.map((a) => a.getAttribute('href')));
  check(hrefs.every((href) => decodeURIComponent(href).endsWith(cut)), `export links carry the cut: ${hrefs}`);
  const expected = await idsAt(july10);
  const csv = await exportsAt('developments.csv', cut);
  check(csv.headers.get('content-type').startsWith('text/csv'), 'CSV content type');
  const rows = parseCsv(await csv.text());
  const header = rows[0];
  same(rows.slice(1).map((r) => r[header.indexOf('development_id')]), expected, 'the CSV holds the developments of the cut');
  check(rows.slice(1).every((r) => r[header.indexOf('cut_at')] === '2021-07-10T00:00:00+00:00'), 'each CSV row is stamped with the cut');
  const timelineJs = await (await exportsAt('timeline.json', cut)).json();
  same(timelineJs.events.map((e) => e.unique_id), expected, 'TimelineJS events are the developments of the cut');
  check(timelineJs.events.every((e) => e.start_date && e.start_date.year && e.text && e.text.headline), 'TimelineJS events have dates and headlines');
  same(timelineJs.storyline.at, '2021-07-10T00:00:00+00:00', 'the TimelineJS file is stamped with its cut');
  const live = await gql('query($s: String!) { story(slug: $s) { snapshot { developments { id location { latitude longitude } } } } }', { s: SLUG });
  const placed = live.story.snapshot.developments.filter((d) => d.location && d.location.latitude !== null && d.location.longitude !== null);
  const geo = await (await exportsAt('developments.geojson', '')).json();
  same(geo.type, 'FeatureCollection', 'GeoJSON is a FeatureCollection');
  same(geo.features.map((f) => f.id), placed.map((d) => d.id), 'GeoJSON has the developments with coordinates');
  check(placed.length > 0, 'the demo has a placed development');
  same(geo.features[0].geometry.coordinates, [placed[0].location.longitude, placed[0].location.latitude], 'GeoJSON points are [longitude, latitude]');

  // The feeds page: a token needed, then each feed with its state.
  await page.goto(base + '/feeds');
  await page.evaluate(() => sessionStorage.removeItem('storyline-token'));
  await page.reload();
  await page.waitForSelector('text=Enter a token to see the feeds.');
  await page.evaluate((token) => sessionStorage.setItem('storyline-token', token), readToken);
  await page.reload();
  await page.waitForSelector('#feeds tbody tr');
  const feedRow = await page.textContent('#feeds tbody tr');
  check(feedRow.includes('coast-wire') && feedRow.includes('Coast Wire'), `the feed is listed: ${feedRow}`);
  check(feedRow.includes('503 Service Unavailable'), 'its last error is shown');
  check(await page.$eval('#feeds tbody tr a', (a) => a.getAttribute('href')) === 'https://wire.example.org/coast.xml', 'its URL is a link');
  await page.screenshot({ path: `${shots}/desk-feeds.png`, fullPage: true });

  // GraphiQL works offline.
  await page.goto(base + '/graphiql');
  await page.waitForSelector('.graphiql-container', { timeout: 15000 });
  check(!(await page.textContent('body')).includes('Loading GraphiQL'), 'GraphiQL rendered');
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.waitForSelector('.graphiql-container', { timeout: 15000 });
  check((await page.textContent('.graphiql-container')).includes('kabul-airport-2021'), 'GraphiQL opens on an example of the demo story');
  same(await page.getAttribute('#back-to-desk', 'href'), '/', 'GraphiQL links back to the desk');
  await page.screenshot({ path: `${shots}/desk-graphiql.png` });

  // Nothing left 127.0.0.1.
  const away = requested.filter((url) => !/^(https?|wss?):\/\/127\.0\.0\.1[:/]/.test(url) && !/^(data|blob):/.test(url));
  same(away, [], 'no request leaves 127.0.0.1');
  same(pageErrors, [], 'no script error on any page');
  console.log(`desk: ok (${requested.length} requests, all to 127.0.0.1)`);
} catch (error) {
  await page.screenshot({ path: `${shots}/desk-failure.png`, fullPage: true }).catch(() => {});
  console.error(error.stack || String(error));
  process.exitCode = 1;
} finally {
  await browser.close();
}
