/**
 * Ground truth counted, never guessed: each voxel's class is the model's label at the voxel centre, and
 * the densitometry (mean lung density, HAA, LAA-950) uses the final stored values after PSF, noise and
 * quantisation. Zones are thirds of the slices that contain lung, cranial first (as in the legacy
 * phantom and the reference engine).
 */
import type { Category } from '../../../shared/engines/contract.js';
import type { PhantomPattern } from '../../../shared/phantom/generate-phantom.js';
import { LABEL, LUNG_BASE, type ScannerFamily, type ScannerPhantomTruth } from './types.js';

const EXPECTED: Readonly<Record<PhantomPattern, Category>> = {
  normal: 'no_fibrosis', uip: 'uip', probable_uip: 'probable_uip', nsip: 'alternative_diagnosis', emphysema: 'no_fibrosis',
};

export class TruthCounter {
  private readonly perSlice: { lung: number; fib: number }[] = [];
  private readonly classes = new Float64Array(16);
  private left = 0; private right = 0; private lung = 0;
  private sumHu = 0; private haa = 0; private laa = 0;

  /** Counts slice k from its centre labels/sides and final HU values. */
  add(k: number, labels: Uint8Array, sides: Uint8Array, hu: Int32Array): void {
    let lung = 0, fib = 0;
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i]!;
      if (l < LUNG_BASE) continue;
      lung++;
      this.classes[l]!++;
      if (l === LABEL.reticulation || l === LABEL.honeycombing) fib++;
      if (sides[i] === 2) this.left++;
      else this.right++;
      const v = hu[i]!;
      this.sumHu += v;
      if (v >= -600 && v <= -250) this.haa++;
      if (v < -950) this.laa++;
    }
    this.lung += lung;
    this.perSlice[k] = { lung, fib };
  }

  finish(o: {
    family: ScannerFamily; pattern: PhantomPattern; seed: number; physics: ScannerPhantomTruth['physics'];
    size: ScannerPhantomTruth['size']; voxelMl: number; tractionBronchiectasis: boolean;
  }): ScannerPhantomTruth {
    const n = this.lung;
    const pct = (v: number): number => (n ? round2((100 * v) / n) : 0);
    const idx = this.perSlice.map((p, i) => (p && p.lung > 0 ? i : -1)).filter((i) => i >= 0);
    const first = idx[0] ?? 0, last = idx[idx.length - 1] ?? 0;
    const acc = [0, 1, 2].map(() => ({ lung: 0, fib: 0 }));
    const span = last - first + 1;
    for (let k = first; k <= last; k++) {
      const z = Math.min(2, Math.max(0, Math.floor((3 * (k - first)) / span)));
      acc[z]!.lung += this.perSlice[k]?.lung ?? 0;
      acc[z]!.fib += this.perSlice[k]?.fib ?? 0;
    }
    const zone = (z: number) => ({ fibrosisPercent: acc[z]!.lung ? round2((100 * acc[z]!.fib) / acc[z]!.lung) : 0 });
    const c = this.classes;
    // Extents rounded so that they sum to exactly 100: the remainder goes to "normal".
    const groundGlass = pct(c[LABEL.groundGlass]!), reticulation = pct(c[LABEL.reticulation]!), honeycombing = pct(c[LABEL.honeycombing]!);
    const emphysema = pct(c[LABEL.emphysema]!), consolidation = pct(c[LABEL.consolidation]!);
    const normal = n ? round2(100 - groundGlass - reticulation - honeycombing - emphysema - consolidation) : 0;
    return {
      schema: 'ildflow.scanner-phantom-truth/1',
      family: o.family, pattern: o.pattern, expectedCategory: EXPECTED[o.pattern], seed: o.seed,
      physics: o.physics, size: o.size,
      lungVoxels: n,
      lungVolumeMl: round2(n * o.voxelMl),
      lungs: { left: { volumeMl: round2(this.left * o.voxelMl) }, right: { volumeMl: round2(this.right * o.voxelMl) } },
      meanLungDensityHu: n ? round2(this.sumHu / n) : 0,
      haaPercent: pct(this.haa),
      laa950Percent: pct(this.laa),
      extents: { normal, groundGlass, reticulation, honeycombing, emphysema, consolidation },
      zones: { upper: zone(0), middle: zone(1), lower: zone(2) },
      tractionBronchiectasis: o.tractionBronchiectasis,
      lungSlices: { first, last },
    };
  }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
