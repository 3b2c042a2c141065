// The 16-bay status page as the dock shows it, in headless Chromium:
//   node status_bays.mjs views URL OUTDIR EXPECT_JSON
//     at 1280x800 and 1920x1080, in English and Chinese (Accept-Language):
//     every tile in view and nothing cut off in it, the state words' size,
//     the words each expected bay shows; a screenshot of each in OUTDIR.
//   node status_bays.mjs stale URL FLAGDIR
//     the page open and drawn (FLAGDIR/ready), then dockd is stopped
//     (FLAGDIR/killed holds the time in ms): how long until the page says so.
// Prints one JSON line.
import { chromium } from 'playwright-core';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const [mode, url, dir, expectFile] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const out = {};
try {
  if (mode === 'views') {
    const expect = JSON.parse(readFileSync(expectFile, 'utf8'));
    out.views = [];
    for (const [w, h] of [[1280, 800], [1920, 1080]]) {
      for (const lang of ['en', 'zh_CN']) {
        const ctx = await browser.newContext({ viewport: { width: w, height: h },
          extraHTTPHeaders: { 'Accept-Language': lang === 'en' ? 'en-US,en;q=0.9' : 'zh-CN,zh;q=0.9' } });
        const page = await ctx.newPage();
        await page.goto(url);
        await page.waitForFunction(n => document.querySelectorAll('.tile').length >= n, expect.tiles, { timeout: 15000 });
        await page.waitForTimeout(1200);
        const v = await page.evaluate(() => {
          const vw = innerWidth, vh = innerHeight;
          const tiles = [...document.querySelectorAll('.tile')].map(t => {
            const r = t.getBoundingClientRect();
            const word = t.querySelector('.word');
            const parts = [...t.children];
            return {
              port: t.dataset.port, state: t.dataset.state, cls: t.className,
              label: t.querySelector('.label').textContent, word: word.textContent,
              sub: [...t.querySelectorAll('.sub')].map(s => s.textContent),
              inView: r.left >= 0 && r.top >= 0 && r.right <= vw + 0.5 && r.bottom <= vh + 0.5,
              // every part of the tile inside it: nothing below its bottom edge, no word wider than it
              contained: t.scrollHeight <= t.clientHeight + 1 && word.scrollWidth <= word.clientWidth + 1 &&
                parts.every(p => p.getBoundingClientRect().bottom <= r.bottom + 0.5 && p.scrollHeight <= p.clientHeight + 1),
              wordPx: parseFloat(getComputedStyle(word).fontSize),
            };
          });
          return { lang: document.documentElement.lang, tiles, scroll: document.documentElement.scrollHeight > vh };
        });
        await page.screenshot({ path: `${dir}/status-${lang}-${w}x${h}.png` });
        const bad = [];
        if (v.tiles.length !== expect.tiles) bad.push(`${v.tiles.length} tiles, not ${expect.tiles}`);
        for (const t of v.tiles) {
          if (!t.inView) bad.push(`${t.label}: not in view`);
          if (!t.contained) bad.push(`${t.label}: its text runs out of the tile`);
          if (h === 1080 && t.wordPx < 48) bad.push(`${t.label}: state word ${t.wordPx}px < 48px at 1080p`);
        }
        for (const [port, want] of Object.entries(expect.words[lang])) {
          const t = v.tiles.find(x => x.port === port);
          const text = t ? [t.word, ...t.sub].join(' | ') : '(no tile)';
          for (const piece of want) if (!text.includes(piece)) bad.push(`${port} (${lang}): '${text}' lacks '${piece}'`);
        }
        out.views.push({ w, h, lang, htmlLang: v.lang, wordPx: Math.min(...v.tiles.map(t => t.wordPx)), bad });
        await ctx.close();
      }
    }
  } else if (mode === 'stale') {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(url);
    await page.waitForSelector('.tile');
    await page.waitForTimeout(1500);
    out.staleBefore = await page.evaluate(() => document.body.classList.contains('stale'));
    writeFileSync(`${dir}/ready`, '1');
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline && !existsSync(`${dir}/killed`)) await page.waitForTimeout(50);
    const killed = Number(readFileSync(`${dir}/killed`, 'utf8'));
    while (Date.now() < deadline) {
      const s = await page.evaluate(() => document.body.classList.contains('stale') &&
        getComputedStyle(document.getElementById('stale')).display !== 'none' &&
        document.getElementById('stale').textContent);
      if (s) { out.staleAfterMs = Date.now() - killed; out.text = s; break; }
      await page.waitForTimeout(100);
    }
    await page.screenshot({ path: `${dir}/status-stale.png` });
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
