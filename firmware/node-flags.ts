// V8 flags the appliance always runs with: in the single executable (SEA execArgv), under `npm start`
// (package.json repeats them, as npm scripts cannot import), and in the benchmark's measuring children.
// A 4 MiB young generation instead of V8's default (up to 16-32 MiB per semi-space) keeps peak RSS about
// 100 MB lower at 50k series for a few percent of append throughput (measured with scripts/bench.ts).
export const NODE_RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
