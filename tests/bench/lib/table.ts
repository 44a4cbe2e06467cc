// Plain-text tables (and the same tables as Markdown for the README).

/** null: a number that was NaN before a JSON round trip. */
export type Cell = string | number | undefined | null;

export interface Table {
	title: string;
	headers: string[];
	rows: Cell[][];
	/** Lines printed under the table. */
	notes?: string[];
}

export function formatCell(cell: Cell): string {
	if (cell === undefined) return '-';
	if (cell === null) return 'n/a';
	if (typeof cell === 'number') {
		if (Number.isNaN(cell)) return 'n/a';
		if (!Number.isFinite(cell)) return cell > 0 ? 'inf' : '-inf';
		if (Number.isInteger(cell)) return String(cell);
		if (Math.abs(cell) >= 100) return cell.toFixed(0);
		if (Math.abs(cell) >= 10) return cell.toFixed(1);

		return cell.toFixed(2);
	}

	return cell;
}

function isNumeric(text: string): boolean {
	return /^[-+]?[\d.,]+(\s?[a-zA-Z%/]*)?x?$/.test(text) || text === 'n/a' || text === '-';
}

export function renderText(table: Table): string {
	const cells = table.rows.map((row) => row.map(formatCell));
	const widths = table.headers.map((header, i) => Math.max(header.length, ...cells.map((row) => (row[i] ?? '').length)));
	const line = (values: string[], numericRight: boolean) =>
		values
			.map((value, i) => (numericRight && i > 0 && isNumeric(value) ? value.padStart(widths[i]!) : value.padEnd(widths[i]!)))
			.join('  ')
			.trimEnd();
	const out = [table.title, '='.repeat(Math.max(table.title.length, 8)), line(table.headers, false), widths.map((w) => '-'.repeat(w)).join('  ')];

	for (const row of cells) out.push(line(row, true));
	for (const note of table.notes ?? []) out.push(note);

	return out.join('\n');
}

export function renderMarkdown(table: Table): string {
	const escape = (text: string) => text.replace(/\|/g, '\\|');
	const out = [`| ${table.headers.map(escape).join(' | ')} |`, `|${table.headers.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];

	for (const row of table.rows) out.push(`| ${row.map((cell) => escape(formatCell(cell))).join(' | ')} |`);

	const notes = (table.notes ?? []).map((note) => note.trim()).filter(Boolean);

	return `${out.join('\n')}${notes.length ? `\n\n${notes.join('  \n')}` : ''}`;
}
