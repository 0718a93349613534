// Hostile URLs stored past the API's check (written by hand, or by an older
// version) never become links on the desk: the story page and the feeds
// page are rendered in Chromium and every href on them is read back.
// Run by tests/desk.rs:
//   node desk-urls.mjs <base url> <story slug> <token> <expected names…>
import { chromium } from 'playwright-core';

const [base, slug, token, ...names] = process.argv.slice(2);

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
const dialogs = [];
try {
  const context = await browser.newContext();
  await context.addInitScript((t) => sessionStorage.setItem('storyline-token', t), token);
  const page = await context.newPage();
  page.on('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss(); });

  const links = async () => page.$$eval('a[href]', (anchors) =>
    anchors.map((a) => {
      let protocol;
      // An SVG <a>'s href is no string: resolve the attribute as the
      // browser would.
      try { protocol = new URL(a.getAttribute('href'), document.baseURI).protocol; } catch { protocol = 'unparsable:'; }
      return { text: a.textContent, raw: a.getAttribute('href'), protocol };
    }));
  const textOf = async () => page.evaluate(() => document.body.innerText);

  await page.goto(`${base}/stories/${encodeURIComponent(slug)}`);
  await page.waitForSelector('#timeline > li[data-development]');
  const text = await textOf();
  for (const name of names) check(text.includes(name), `the source ${name} is shown on the story page`);
  let found = await links();
  await page.goto(`${base}/feeds`);
  await page.waitForSelector('#feeds tbody tr');
  const feeds = await textOf();
  check(feeds.includes('hostile-feed'), 'the feed with a hostile URL is listed');
  found = found.concat(await links());

  const scripted = found.filter((l) => !['http:', 'https:'].includes(l.protocol));
  check(scripted.length === 0, 'links with a script or other scheme: ' + JSON.stringify(scripted));
  check(dialogs.length === 0, 'a script ran: ' + JSON.stringify(dialogs));
  console.log(`desk-urls: ok (${found.length} links, every one http or https)`);
} finally {
  await browser.close();
}
