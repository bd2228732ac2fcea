// V8 flags the appliance always runs with: in the single executable (SEA execArgv), under `npm start`
// (package.json repeats them, as npm scripts cannot import), and in the benchmark's measuring children.
// Measured with `npm run bench:appliance` (50 targets x 1,000 series): with V8's defaults the old generation
// grows lazily to over 600 MB RSS although the live heap stays under 200 MB; a 4 MiB young generation and a
// 384 MB old-generation cap keep the appliance near 300 MB at 50k series for some extra GC CPU. The live heap
// grows by roughly 2-3 KB per series, so a store with far more than 100k series needs a larger cap here.
export const NODE_RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--max-old-space-size=384'];
