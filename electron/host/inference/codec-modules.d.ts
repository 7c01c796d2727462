// The Emscripten codec factories ship without types: a factory takes Module options
// (wasmBinary, print, printErr, …) and resolves to the instantiated module.
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  const factory: (options: Record<string, unknown>) => Promise<Record<string, unknown>>;
  export default factory;
}
declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: (options: Record<string, unknown>) => Promise<Record<string, unknown>>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: (options: Record<string, unknown>) => Promise<Record<string, unknown>>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjph/wasmjs' {
  const factory: (options: Record<string, unknown>) => Promise<Record<string, unknown>>;
  export default factory;
}
declare module '@cornerstonejs/codec-libjxl/decodewasmjs' {
  const factory: (options: Record<string, unknown>) => Promise<Record<string, unknown>>;
  export default factory;
}
