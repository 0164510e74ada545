// Minifies the JavaScript of trunk builds in place, after `trunk build`:
//   node tools/minify.mjs DIST_DIR...
//
// trunk 0.21's own minifier cannot parse wasm-bindgen's glue (`export default`
// stops it: "Failed to minify JS"), so every app shipped its glue unminified
// (≈6.5 KB gzip each); terser takes it to ≈4.7 KB. The glue is an ES module
// (export names kept); `loader.js`, the embed snippet's script, is a classic
// script, minified without its comments (it is documented in www/loader.js).
// trunk pins each file in index.html with a Subresource Integrity hash; the
// hash of every rewritten file is replaced there too.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { minify } from 'terser';

const sri = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;

for (const dir of process.argv.slice(2)) {
  const page = join(dir, 'index.html');
  let html = await readFile(page, 'utf8');
  for (const name of (await readdir(dir)).filter((name) => name.endsWith('.js'))) {
    const file = join(dir, name);
    const source = await readFile(file, 'utf8');
    const module = name !== 'loader.js';
    const { code } = await minify(source, {
      module,
      // Every browser the widget supports runs ES2020 (it needs fetch,
      // promises and wasm): the loader's callbacks, none of which uses
      // `this` or is called with `new`, may become arrows (−100 B gzip,
      // which keeps the loader within its 2 KB).
      ecma: 2020,
      compress: { passes: 2, unsafe_arrows: !module },
      mangle: true,
      format: { comments: false },
    });
    if (code.length >= source.length) continue; // already minified
    html = html.replaceAll(sri(source), sri(code));
    await writeFile(file, code);
    console.log(`minified ${file}: ${source.length} → ${code.length} bytes`);
  }
  await writeFile(page, html);
}
