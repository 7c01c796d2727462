// The order a volume's slices are fetched in: the slice in view first, then outwards one
// step at a time on both sides, so the planes fill in around what the user looks at
// instead of from one end of the series. Pure: unit-tested in test/host.

/** Indices 0…count-1 ordered by distance from `center` (clamped into range); ties go to the lower index first. */
export function nearestFirst(count: number, center: number): number[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`a slice count must be a whole number ≥ 0, not ${count}`);
  if (count === 0) return [];
  const start = Math.min(count - 1, Math.max(0, Math.round(Number.isFinite(center) ? center : 0)));
  const order = [start];
  for (let step = 1; order.length < count; step++) {
    if (start - step >= 0) order.push(start - step);
    if (start + step < count) order.push(start + step);
  }
  return order;
}
