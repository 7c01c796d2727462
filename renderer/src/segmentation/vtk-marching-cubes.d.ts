// vtk.js ships no types for its marching cubes filter: the part of its API segment-surface.ts uses.
declare module '@kitware/vtk.js/Filters/General/ImageMarchingCubes.js' {
  type PolyDataOutput = { getPoints(): { getData(): Float32Array }; getPolys(): { getData(): Uint32Array } };
  export type vtkImageMarchingCubes = {
    setContourValue(value: number): boolean;
    setMergePoints(merge: boolean): boolean;
    setComputeNormals(compute: boolean): boolean;
    setInputData(data: unknown): void;
    getOutputData(): PolyDataOutput;
  };
  const factory: { newInstance(initialValues?: Record<string, unknown>): vtkImageMarchingCubes };
  export default factory;
}
