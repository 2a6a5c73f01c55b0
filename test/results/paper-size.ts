/** A written figure's sizes, as the figure tests check them (test/results/figures.test.ts and the analyze tests). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FIGURE_WIDTHS, PNG_DPI, POINTS_PER_INCH, svgSize } from '../../src/results/figure.js';

/** Checks both widths of a written figure: within 3.5 in / 7 in, sizes in pt, the PNG at 300 dpi. */
export function assertPaperSized(svgFile: string): void {
  for (const [width, file] of [
    ['column', svgFile],
    ['wide', svgFile.replace(/\.svg$/, '.wide.svg')],
  ] as const) {
    const svg = readFileSync(file, 'utf8');
    assert.match(svg, /^<svg[^>]* width="[\d.]+pt" height="[\d.]+pt"/, `${file}: its size in points`);
    const { width: points } = svgSize(svg);
    const most = FIGURE_WIDTHS[width].inches * POINTS_PER_INCH;
    assert.ok(points <= most + 1, `${file}: ${points} pt wide, more than ${FIGURE_WIDTHS[width].inches} in`);
    const png = readFileSync(file.replace(/\.svg$/, '.png'));
    const pixels = png.readUInt32BE(16); // IHDR width
    assert.ok(Math.abs(pixels - (points / POINTS_PER_INCH) * PNG_DPI) <= 2, `${file}: ${pixels} px is 300 dpi`);
  }
}
