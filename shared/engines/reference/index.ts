export { REFERENCE_DESCRIPTOR } from './descriptor.js';
export { analyzeVolume, type AnalysisResult } from './analyze-volume.js';
export { categorize } from './categorize.js';
export { analyzeSeriesDir, createReferenceEngine, type SeriesIds } from './reference-engine.js';
