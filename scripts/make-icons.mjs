#!/usr/bin/env node
// Draws AlignScope's application icon (our own art: two overlapping graphs' nodes on a
// rounded square) and writes the PNG sizes the Tauri build embeds into src-tauri/icons/.
// Deterministic: the same bytes on every run, so the checked-in files only change when
// this script does. Plain Node (zlib), no dependencies:
//   node scripts/make-icons.mjs
import { deflateSync } from "node:zlib";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const outDir = join(dirname(fileURLToPath(import.meta.url)), "..", "src-tauri", "icons");
const SIZES = { "32x32.png": 32, "128x128.png": 128, "icon.png": 256 };
const SUPERSAMPLE = 4;

// CRC-32 as PNG needs it.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** An 8-bit RGBA PNG (Tauri requires RGBA icons). */
function png(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

// The picture in unit coordinates (0..1): colour of one sample point, or null.
function insideRoundedSquare(x, y, margin, radius) {
  const lo = margin + radius;
  const hi = 1 - margin - radius;
  const dx = Math.max(lo - x, 0, x - hi);
  const dy = Math.max(lo - y, 0, y - hi);
  return dx * dx + dy * dy <= radius * radius && x >= margin && x <= 1 - margin && y >= margin && y <= 1 - margin;
}
const inCircle = (x, y, cx, cy, r) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const LEFT = [45, 212, 191]; // teal: the left graph
const RIGHT = [251, 191, 36]; // amber: the right graph
const BOTH = [248, 250, 252]; // where they align
function sample(x, y) {
  if (!insideRoundedSquare(x, y, 0.04, 0.2)) return null;
  const inLeft = inCircle(x, y, 0.4, 0.5, 0.24);
  const inRight = inCircle(x, y, 0.6, 0.5, 0.24);
  if (inLeft && inRight) return BOTH;
  if (inLeft) return LEFT;
  if (inRight) return RIGHT;
  // Background: indigo, a little lighter at the top.
  const t = y;
  return [Math.round(67 - 30 * t), Math.round(56 - 25 * t), Math.round(202 - 70 * t)];
}

function render(size) {
  const rgba = Buffer.alloc(size * size * 4);
  const n = SUPERSAMPLE;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const c = sample((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size);
          if (c) {
            r += c[0];
            g += c[1];
            b += c[2];
            a += 1;
          }
        }
      }
      const o = (py * size + px) * 4;
      if (a > 0) {
        rgba[o] = Math.round(r / a);
        rgba[o + 1] = Math.round(g / a);
        rgba[o + 2] = Math.round(b / a);
        rgba[o + 3] = Math.round((255 * a) / (n * n));
      }
    }
  }
  return rgba;
}

mkdirSync(outDir, { recursive: true });
for (const [name, size] of Object.entries(SIZES)) {
  const file = join(outDir, name);
  writeFileSync(file, png(size, render(size)));
  console.log(`wrote ${file} (${size}x${size})`);
}
