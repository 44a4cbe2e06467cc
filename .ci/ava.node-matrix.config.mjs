// The suite without the browser E2E tests, for the Node 22/24 runs in CI.
export default {
	files: ['dist/tests/*.test.js', 'tests/*.test.mjs'],
	timeout: '120s',
	concurrency: 2,
	workerThreads: false
};
