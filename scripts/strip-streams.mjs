// Takes the unused `wasm-streams` classes out of wasm-bindgen's JS glue.
//
// Leptos 0.8 depends on `server_fn` with its `browser` feature, which
// brings `wasm-streams`: three classes (IntoUnderlyingSource, …Sink,
// …ByteSource) exported from the wasm for server functions' streams. Kasse's
// pages call no server function, but an export is never dead to the
// compiler. precompress.sh removes the wasm's exports of them (`wasm-opt
// --remove-exports`); this script then removes what the glue keeps of them
// and every import function the wasm no longer imports.
//
//   node strip-streams.mjs GLUE.js MODULE_bg.wasm
//
// It checks what it leaves: every `wasm.name` the glue still reads is an
// export of the wasm, and every import of the wasm is still in the glue.
// Anything else stops the build (exit 1) rather than ship a broken page.
import fs from 'node:fs';

const [gluePath, wasmPath] = process.argv.slice(2);
if (!gluePath || !wasmPath) {
    console.error('usage: node strip-streams.mjs GLUE.js MODULE_bg.wasm');
    process.exit(2);
}
const module = new WebAssembly.Module(fs.readFileSync(wasmPath));
const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
const imported = new Set(WebAssembly.Module.imports(module).map((i) => i.name));

let glue = fs.readFileSync(gluePath, 'utf8');
const before = glue.length;

// Each class, its dispose alias and its finalization registry.
glue = glue.replace(
    /^export class (IntoUnderlying\w+) \{\n[\s\S]*?^\}\nif \(Symbol\.dispose\) \1\.prototype\[Symbol\.dispose\] = \1\.prototype\.free;\n/gm,
    '',
);
glue = glue.replace(
    /^const IntoUnderlying\w+Finalization = \(typeof FinalizationRegistry === 'undefined'\)\n.*\n.*\n/gm,
    '',
);
// The stream type's enum, read only by the byte source.
if (!/[^\n]__wbindgen_enum_ReadableStreamType\[/.test(glue)) {
    glue = glue.replace(/^const __wbindgen_enum_ReadableStreamType = .*;\n/m, '');
}
// Import functions the wasm no longer imports.
glue = glue.replace(
    /^ {8}(__wbg\w+): function\([^)]*\) \{\n[\s\S]*?^ {8}\},?\n/gm,
    (whole, name) => (imported.has(name) ? whole : ''),
);

const problems = [];
if (/IntoUnderlying|intounderlying/.test(glue)) {
    problems.push('the glue still names a wasm-streams class');
}
for (const [, name] of glue.matchAll(/\bwasm\.(\w+)/g)) {
    if (!exported.has(name)) problems.push(`the glue reads wasm.${name}, which the wasm does not export`);
}
const provided = new Set([...glue.matchAll(/^ {8}(__wbg\w+): function\(/gm)].map((m) => m[1]));
for (const name of imported) {
    if (name.startsWith('__wbg') && !provided.has(name)) {
        problems.push(`the wasm imports ${name}, which the glue no longer provides`);
    }
}
if (problems.length > 0) {
    console.error(`strip-streams: ${gluePath}:\n  ${[...new Set(problems)].join('\n  ')}`);
    process.exit(1);
}
fs.writeFileSync(gluePath, glue);
console.error(`strip-streams: ${gluePath}: ${before} -> ${glue.length} bytes`);
