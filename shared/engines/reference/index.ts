export { REFERENCE_DESCRIPTOR } from './descriptor.js';
export { analyzeVolume, categorize, type AnalysisResult } from './analyze-volume.js';
export { analyzeSeriesDir, createReferenceEngine, type SeriesIds } from './reference-engine.js';
