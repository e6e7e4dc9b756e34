// Preload (`node -r`): at exit, prints the npm packages the repository's own modules required directly, one JSON
// line on stderr. A package that only the runner loads (tsx's esbuild) does not count: its parent is in
// node_modules. Packages a repository module loads pull their own dependencies in, so a heavy package is kept out
// only if no repository module requires it.
const Module = require('node:module');
const path = require('node:path');
const root = path.resolve(__dirname, '..', '..');
const packages = new Set();
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const from = parent?.filename ?? '';
  if (
    from.startsWith(root) &&
    !from.includes(`${path.sep}node_modules${path.sep}`) &&
    !request.startsWith('.') &&
    !request.startsWith('node:') &&
    !path.isAbsolute(request) &&
    !Module.isBuiltin(request)
  ) {
    const parts = request.split('/');
    packages.add(request.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
  }
  return load.call(this, request, parent, isMain);
};
process.on('exit', () => process.stderr.write(`FIRST_HOP_PACKAGES ${JSON.stringify([...packages].sort())}\n`));
