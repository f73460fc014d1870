// A small SVG line chart: delivery latency (p50 dashed, p99 solid) against load, one colour per
// system, log-scaled y. No dependency: the benchmark must run on a fresh clone.

export interface Series {
  name: string;
  colour: string;
  points: Array<{ x: number; p50: number; p99: number }>;
}

export interface Panel {
  title: string;
  xLabel: string;
  series: Series[];
}

const W = 460;
const H = 300;
const M = { left: 56, right: 16, top: 36, bottom: 46 };

function panelSvg(panel: Panel, offsetX: number): string {
  const xs = [...new Set(panel.series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const ys = panel.series.flatMap((s) => s.points.flatMap((p) => [p.p50, p.p99])).filter((y) => y > 0);
  const yMin = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...ys))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys, 1)));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const xAt = (x: number) => M.left + (xs.length === 1 ? plotW / 2 : (xs.indexOf(x) / (xs.length - 1)) * plotW);
  const yAt = (y: number) =>
    M.top +
    plotH -
    ((Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;
  const parts: string[] = [`<g transform="translate(${offsetX},0)">`];
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-weight="bold">${panel.title}</text>`);
  for (let y = yMin; y <= yMax; y *= 10) {
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${yAt(y)}" y2="${yAt(y)}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${yAt(y) + 4}" text-anchor="end">${y} ms</text>`,
    );
  }
  for (const x of xs) {
    parts.push(`<text x="${xAt(x)}" y="${H - M.bottom + 18}" text-anchor="middle">${x}</text>`);
  }
  parts.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle">${panel.xLabel}</text>`);
  panel.series.forEach((series, index) => {
    for (const [key, dash] of [
      ["p50", "5,4"],
      ["p99", ""],
    ] as const) {
      const path = series.points
        .map((p, i) => `${i === 0 ? "M" : "L"}${xAt(p.x).toFixed(1)},${yAt(p[key]).toFixed(1)}`)
        .join(" ");
      parts.push(
        `<path d="${path}" fill="none" stroke="${series.colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`,
      );
      for (const p of series.points) {
        parts.push(
          `<circle cx="${xAt(p.x).toFixed(1)}" cy="${yAt(p[key]).toFixed(1)}" r="3" fill="${series.colour}"/>`,
        );
      }
    }
    const ly = M.top + 4 + index * 16;
    parts.push(
      `<rect x="${M.left + 8}" y="${ly - 9}" width="10" height="10" fill="${series.colour}"/>`,
      `<text x="${M.left + 24}" y="${ly}">${series.name}</text>`,
    );
  });
  parts.push("</g>");
  return parts.join("\n");
}

export function chartSvg(panels: Panel[], caption: string): string {
  const width = W * panels.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 24}" font-family="sans-serif" font-size="11" role="img">`,
    `<title>${panels.map((panel) => panel.title).join("; ")}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels.map((panel, i) => panelSvg(panel, i * W)),
    `<text x="${width / 2}" y="${H + 16}" text-anchor="middle" fill="#555">${caption}</text>`,
    "</svg>",
  ].join("\n");
}
