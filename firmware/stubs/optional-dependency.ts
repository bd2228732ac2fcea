// Stand-in for optional dependencies that the single executable does not bundle (see firmware/build-binary.ts).
//
// Libraries load these inside try/catch and fall back when they are absent. Inside a Node single executable a
// leftover `require('pkg')` would fail with ERR_UNKNOWN_BUILTIN_MODULE instead, which some callers do not treat
// as "missing", and an empty stub is worse: callers then use the stub's missing functions. So the stub fails
// exactly like an uninstalled package does.
throw Object.assign(new Error('optional dependency not bundled in the storewatch executable'), {
  code: 'MODULE_NOT_FOUND',
});

export {};
