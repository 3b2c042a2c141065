// Watches dockd's status page in headless Chromium while a recorder docks:
// its tile must appear, show progress, and turn "Safe to remove"; the page
// must not reload. Prints one JSON line; saves a screenshot.
//   node status_page.mjs URL SERIAL SCREENSHOT
import { chromium } from 'playwright-core';

const [url, serial, shot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const result = { appeared: false, states: [], progress: [], safe: false, reloads: 0 };
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  let loads = 0;
  page.on('load', () => { loads++; });
  await page.goto(url);
  const deadline = Date.now() + 90000;
  while (Date.now() < deadline) {
    // One snapshot of the tile per look: the page redraws it every second.
    const t = await page.evaluate(sel => {
      const e = document.querySelector(sel);
      const fill = e && e.querySelector('.fill');
      return e && { state: e.dataset.state, width: fill ? fill.style.width : '0%',
                    text: e.querySelector('.word').textContent, safe: e.classList.contains('safe') };
    }, `.tile[data-serial="${serial}"]`);
    if (t) {
      result.appeared = true;
      if (result.states[result.states.length - 1] !== t.state) result.states.push(t.state);
      if (result.progress[result.progress.length - 1] !== t.width) result.progress.push(t.width);
      if (t.text === 'Safe to remove' && t.safe) {
        result.safe = true;
        break;
      }
    }
    await page.waitForTimeout(200);
  }
  result.reloads = loads - 1;
  await page.screenshot({ path: shot, fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
