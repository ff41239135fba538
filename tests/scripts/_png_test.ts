import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { crc32, encodePng } from "../../scripts/_png.ts";
import { ICON, ICON_SIZES, iconPng, rasterize } from "../../scripts/_icon.ts";

interface Chunk {
  readonly type: string;
  readonly data: Uint8Array;
  readonly crcOk: boolean;
}

/** Splits a PNG file into chunks, checking each CRC. */
function chunks(png: Uint8Array): Chunk[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Chunk[] = [];
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    const crc = view.getUint32(at + 8 + length);
    out.push({ type, data, crcOk: crc === crc32(png.subarray(at + 4, at + 8 + length)) });
    at += 12 + length;
  }
  return out;
}

Deno.test("crc32() matches the standard check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});

Deno.test("encodePng() writes a valid RGBA PNG whose pixels inflate back", () => {
  const pixels = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 1, 2, 3, 4]);
  const png = encodePng(2, 2, pixels);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const parts = chunks(png);
  assert.deepEqual(parts.map((c) => [c.type, c.crcOk]), [
    ["IHDR", true],
    ["IDAT", true],
    ["IEND", true],
  ]);
  assert.deepEqual([...(parts[0]?.data ?? [])], [0, 0, 0, 2, 0, 0, 0, 2, 8, 6, 0, 0, 0]);
  const raw = new Uint8Array(inflateSync(parts[1]?.data ?? new Uint8Array()));
  assert.deepEqual([...raw], [0, ...pixels.subarray(0, 8), 0, ...pixels.subarray(8)]);
});

Deno.test("encodePng() rejects a pixel buffer of the wrong size", () => {
  assert.throws(() => encodePng(2, 2, new Uint8Array(3)), {
    name: "RangeError",
    message: "Cannot encode PNG as the pixel buffer must hold 16 bytes: current length is 3",
  });
});

Deno.test("iconPng() draws the icon at every manifest size", () => {
  for (const size of ICON_SIZES) {
    const png = iconPng(size);
    const header = chunks(png)[0]?.data ?? new Uint8Array();
    const view = new DataView(header.buffer, header.byteOffset);
    assert.deepEqual([view.getUint32(0), view.getUint32(4)], [size, size]);
  }
  // The corner is transparent (rounded), the centre is the white bar, the edge is orange.
  const pixels = rasterize(ICON, 32);
  const at = (x: number, y: number) => [...pixels.subarray((y * 32 + x) * 4, (y * 32 + x) * 4 + 4)];
  assert.equal(at(0, 0)[3], 0);
  assert.deepEqual(at(16, 16), [255, 255, 255, 255]);
  assert.deepEqual(at(28, 16), [0xff, 0x5a, 0x36, 255]);
});
