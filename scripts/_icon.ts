/**
 * The extension's icon, described once as shapes in a unit square and drawn at any size by
 * supersampled signed distances. The build draws 16, 32, 48 and 128 px PNGs from it, so no
 * binary icon is kept in the repository.
 *
 * The picture: an orange rounded square (the badge colour) with two white nodes joined by a
 * bar, a relay between two ends.
 *
 * @module
 */

import { encodePng } from "./_png.ts";

/** A shape in unit coordinates (0..1, y down). */
export type Shape =
  | {
    readonly kind: "rounded_rect";
    readonly x: number;
    readonly y: number;
    readonly w: number;
    readonly h: number;
    readonly r: number;
  }
  | { readonly kind: "circle"; readonly cx: number; readonly cy: number; readonly r: number }
  | {
    readonly kind: "capsule";
    readonly x1: number;
    readonly y1: number;
    readonly x2: number;
    readonly y2: number;
    readonly r: number;
  };

/** A filled layer: shapes in one colour. */
export interface Layer {
  /** `[r, g, b]`, 0..255. */
  readonly color: readonly [number, number, number];
  readonly shapes: readonly Shape[];
}

/** The icon's source. */
export const ICON: readonly Layer[] = [
  {
    color: [0xff, 0x5a, 0x36],
    shapes: [{ kind: "rounded_rect", x: 0.03, y: 0.03, w: 0.94, h: 0.94, r: 0.22 }],
  },
  {
    color: [0xff, 0xff, 0xff],
    shapes: [
      { kind: "capsule", x1: 0.3, y1: 0.7, x2: 0.7, y2: 0.3, r: 0.065 },
      { kind: "circle", cx: 0.3, cy: 0.7, r: 0.14 },
      { kind: "circle", cx: 0.7, cy: 0.3, r: 0.14 },
    ],
  },
];

/** The sizes the manifest lists. */
export const ICON_SIZES: readonly number[] = [16, 32, 48, 128];

function inside(shape: Shape, x: number, y: number): boolean {
  switch (shape.kind) {
    case "circle":
      return (x - shape.cx) ** 2 + (y - shape.cy) ** 2 <= shape.r ** 2;
    case "capsule": {
      const dx = shape.x2 - shape.x1;
      const dy = shape.y2 - shape.y1;
      const t = Math.max(
        0,
        Math.min(1, ((x - shape.x1) * dx + (y - shape.y1) * dy) / (dx * dx + dy * dy)),
      );
      return (x - shape.x1 - t * dx) ** 2 + (y - shape.y1 - t * dy) ** 2 <= shape.r ** 2;
    }
    case "rounded_rect": {
      const qx = Math.abs(x - (shape.x + shape.w / 2)) - (shape.w / 2 - shape.r);
      const qy = Math.abs(y - (shape.y + shape.h / 2)) - (shape.h / 2 - shape.r);
      const outside = Math.hypot(Math.max(qx, 0), Math.max(qy, 0));
      return outside + Math.min(Math.max(qx, qy), 0) <= shape.r;
    }
    default: {
      const _exhaustive: never = shape;
      return _exhaustive;
    }
  }
}

/**
 * Draws layers into RGBA pixels, 4×4 samples per pixel.
 *
 * @param layers The picture.
 * @param size Width and height in pixels.
 * @returns `size * size * 4` bytes, not premultiplied.
 */
export function rasterize(layers: readonly Layer[], size: number): Uint8Array {
  const n = 4;
  const out = new Uint8Array(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      // Premultiplied accumulation over the samples.
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const x = (px + (sx + 0.5) / n) / size;
          const y = (py + (sy + 0.5) / n) / size;
          let color: readonly [number, number, number] | undefined;
          for (const layer of layers) {
            if (layer.shapes.some((shape) => inside(shape, x, y))) color = layer.color;
          }
          if (color === undefined) continue;
          r += color[0];
          g += color[1];
          b += color[2];
          a += 1;
        }
      }
      const i = (py * size + px) * 4;
      if (a > 0) {
        out[i] = Math.round(r / a);
        out[i + 1] = Math.round(g / a);
        out[i + 2] = Math.round(b / a);
      }
      out[i + 3] = Math.round((a / (n * n)) * 255);
    }
  }
  return out;
}

/**
 * The icon as a PNG file.
 *
 * @param size Width and height in pixels.
 * @returns The PNG bytes.
 */
export function iconPng(size: number): Uint8Array {
  return encodePng(size, size, rasterize(ICON, size));
}
