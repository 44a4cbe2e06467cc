// Line charts written as SVG by hand (no plotting dependency): one or more
// panels stacked vertically, each with its own axes, series and legend.

export interface Series {
	name: string;
	points: (readonly [number, number])[];
	color?: string;
	dashed?: boolean;
	/** Draw a marker at every point (for sparse series). */
	markers?: boolean;
}

export interface Panel {
	title: string;
	xLabel: string;
	yLabel: string;
	series: Series[];
	/** Horizontal reference lines, e.g. a goal. */
	hLines?: { y: number; label: string; color?: string }[];
	/** Force the y axis to start at 0 (default true). */
	yFromZero?: boolean;
	/** Log-scale-free tick hint: explicit x ticks (e.g. the measured levels). */
	xTicks?: number[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

function esc(text: string): string {
	return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values covering [min, max]. */
function niceTicks(min: number, max: number, count = 5): number[] {
	if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
	if (max === min) {
		max = min === 0 ? 1 : min * 1.1;
		if (max < min) [min, max] = [max, min];
	}

	const raw = (max - min) / count;
	const magnitude = 10 ** Math.floor(Math.log10(raw));
	const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
	const ticks: number[] = [];

	// From the last tick at or below min to the first at or above max.
	for (let v = Math.floor(min / step) * step; ticks.length < 100; v += step) {
		ticks.push(Number(v.toPrecision(12)));
		if (v >= max - step * 1e-9) break;
	}

	return ticks;
}

function label(value: number): string {
	if (Math.abs(value) >= 10000) return `${Math.round(value / 1000)}k`;
	if (Number.isInteger(value)) return String(value);

	return Math.abs(value) >= 10 ? value.toFixed(0) : value.toPrecision(2).replace(/\.?0+$/, '');
}

function renderPanel(panel: Panel, top: number, width: number, height: number): string {
	const margin = { left: 70, right: 20, top: 34, bottom: 46 };
	const legendHeight = 18 * Math.ceil(panel.series.length / 3);
	const plotW = width - margin.left - margin.right;
	const plotH = height - margin.top - margin.bottom - legendHeight;
	const xs = panel.series.flatMap((s) => s.points.map((p) => p[0]));
	const ys = [...panel.series.flatMap((s) => s.points.map((p) => p[1])), ...(panel.hLines ?? []).map((h) => h.y)].filter(Number.isFinite);
	const xMin = Math.min(...xs, ...(panel.xTicks ?? []));
	const xMax = Math.max(...xs, ...(panel.xTicks ?? []));
	const yTicks = niceTicks(panel.yFromZero === false ? Math.min(...ys) : Math.min(0, ...ys), Math.max(...ys, 0.001));
	const xTicks = panel.xTicks ?? niceTicks(xMin, xMax, 6);
	const x0 = Math.min(xMin, ...xTicks);
	const x1 = Math.max(xMax, ...xTicks);
	const y0 = yTicks[0]!;
	const y1 = yTicks[yTicks.length - 1]!;
	const sx = (x: number) => margin.left + (x1 === x0 ? plotW / 2 : ((x - x0) / (x1 - x0)) * plotW);
	const sy = (y: number) => top + margin.top + plotH - (y1 === y0 ? plotH / 2 : ((y - y0) / (y1 - y0)) * plotH);
	const parts: string[] = [];

	parts.push(`<text x="${width / 2}" y="${top + 20}" text-anchor="middle" font-size="15" font-weight="bold">${esc(panel.title)}</text>`);
	// Grid and y ticks.
	for (const t of yTicks) {
		parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#e5e5e5"/>`);
		parts.push(`<text x="${margin.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${esc(label(t))}</text>`);
	}
	for (const t of xTicks) {
		if (t < x0 || t > x1) continue;
		parts.push(`<line x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" y1="${top + margin.top}" y2="${top + margin.top + plotH}" stroke="#f0f0f0"/>`);
		parts.push(`<text x="${sx(t).toFixed(1)}" y="${top + margin.top + plotH + 16}" text-anchor="middle" font-size="11">${esc(label(t))}</text>`);
	}
	// Axes.
	parts.push(`<rect x="${margin.left}" y="${top + margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
	parts.push(`<text x="${margin.left + plotW / 2}" y="${top + margin.top + plotH + 34}" text-anchor="middle" font-size="12">${esc(panel.xLabel)}</text>`);
	parts.push(
		`<text x="16" y="${top + margin.top + plotH / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${top + margin.top + plotH / 2})">${esc(panel.yLabel)}</text>`
	);
	for (const h of panel.hLines ?? []) {
		const color = h.color ?? '#999';

		parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${sy(h.y).toFixed(1)}" y2="${sy(h.y).toFixed(1)}" stroke="${color}" stroke-dasharray="6 4"/>`);
		parts.push(`<text x="${margin.left + plotW - 4}" y="${(sy(h.y) - 4).toFixed(1)}" text-anchor="end" font-size="11" fill="${color}">${esc(h.label)}</text>`);
	}
	// Series.
	panel.series.forEach((series, i) => {
		const color = series.color ?? PALETTE[i % PALETTE.length]!;
		const points = series.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));

		if (points.length > 1) {
			const d = points.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');

			parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 3"' : ''}/>`);
		}
		if (series.markers || points.length === 1) {
			for (const p of points) parts.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="3.5" fill="${color}"/>`);
		}
		// Legend, three per row.
		const lx = margin.left + (i % 3) * (plotW / 3);
		const ly = top + margin.top + plotH + 46 + Math.floor(i / 3) * 18;

		parts.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="3"${series.dashed ? ' stroke-dasharray="6 3"' : ''}/>`);
		parts.push(`<text x="${lx + 28}" y="${ly}" font-size="11">${esc(series.name)}</text>`);
	});

	return parts.join('\n');
}

/** One SVG document with the panels stacked vertically. */
export function chart(panels: Panel[], options: { width?: number; panelHeight?: number; caption?: string } = {}): string {
	const width = options.width ?? 760;
	const panelHeight = options.panelHeight ?? 340;
	const captionHeight = options.caption ? 22 : 0;
	const height = panels.length * panelHeight + captionHeight;
	const body = panels.map((panel, i) => renderPanel(panel, i * panelHeight, width, panelHeight)).join('\n');
	const caption = options.caption
		? `<text x="${width / 2}" y="${height - 6}" text-anchor="middle" font-size="11" fill="#555">${esc(options.caption)}</text>`
		: '';

	return [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
		`<rect width="${width}" height="${height}" fill="white"/>`,
		body,
		caption,
		'</svg>',
		''
	].join('\n');
}
