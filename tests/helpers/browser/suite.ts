// One browser suite: its tests run serially and share one ClientSite (the
// client bundle, its page server and the machine-wide E2E lock), or are
// skipped with the reason when Chromium or another prerequisite is missing.

import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { missingPrerequisite } from '../chromium.js';
import { ClientSite } from './call.js';

export type SiteTest = TestFn<{ site: ClientSite }>;
export type SiteTestBody = (t: ExecutionContext<{ site: ClientSite }>) => Promise<void>;

/** The suite's `serial` (or `serial.skip` when `missing` says why it cannot run). */
export function browserSuite(missing: string | undefined = missingPrerequisite()): (title: string, body: SiteTestBody) => void {
	const test = anyTest as SiteTest;

	test.before(async (t) => {
		if (missing) t.log(missing);
		else t.context.site = await ClientSite.start();
	});
	test.after.always(async (t) => {
		await t.context.site?.close();
	});

	return (title, body) => (missing ? test.serial.skip : test.serial)(title, body);
}
