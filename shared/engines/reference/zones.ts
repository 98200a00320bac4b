/** Cranio-caudal zone of a slice (0 upper, 1 middle, 2 lower): thirds of the slices that contain lung,
 *  counted cranial → caudal. The phantom's ground truth uses the same definition. */
export function zoneOfSlice(k: number, first: number, last: number): 0 | 1 | 2 {
  const span = last - first + 1;
  const z = Math.floor((3 * (k - first)) / span);
  return (z < 0 ? 0 : z > 2 ? 2 : z) as 0 | 1 | 2;
}
