// Types of viewer-render.js for its TypeScript unit test (the page itself is plain JavaScript, no build step).
export type ViewerClass = { key: string; label: string; value: number; rgb: readonly [number, number, number] | null };
export declare const PRESETS: Readonly<Record<'lung' | 'mediastinal', Readonly<{ width: number; level: number; label: string }>>>;
export declare const LUT_OFFSET: number;
export declare function windowLut(width: number, level: number): Uint8Array;
export declare function palette(classes: readonly ViewerClass[], hidden?: ReadonlySet<string>): Uint8Array;
export declare function renderSlice(rgba: Uint8ClampedArray | Uint8Array, hu: Int16Array, labels: Uint8Array | null, lut: Uint8Array, pal: Uint8Array, opacity: number): void;
export declare function sliceShares(row: readonly number[], classes: readonly ViewerClass[]): { key: string; label: string; voxels: number; percent: number }[];
export declare function maxSliceOf(classCounts: readonly (readonly number[])[], k: number): number;
export declare function clampSlice(z: number, count: number): number;
