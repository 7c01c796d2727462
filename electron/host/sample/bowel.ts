// Small bowel loops for the lower abdomen. Space is cut into cells; each cell
// holds at most one short tube segment that stays inside it, so a voxel only
// ever asks its own cell. A gentle warp of the coordinates bends the tubes and
// hides the grid. Slice after slice this gives what a scan shows: packed round
// and oval loops with a thin bright wall, fluid or gas inside, fat in between.
import { mulberry32, smoothWobble, streamFor } from './random.ts';
import { smoothstep } from './shapes.ts';

interface Loop {
  cx: number;
  cy: number;
  cz: number;
  dx: number;
  dy: number;
  dz: number;
  halfLength: number;
  radius: number;
  /** 0 fluid, 1 gas over a fluid level, 2 collapsed (wall only, thick). */
  content: 0 | 1 | 2;
  fluidHu: number;
}

const CELL_MM = 28;
const WALL_MM = 2.5;

export interface BowelOptions {
  fat: number;
  wall: number;
  air: number;
  /** No loops centred behind this y (mm): the retroperitoneum holds fat, not bowel. */
  posteriorLimitY: number;
}

/** Attenuation of the bowel-and-mesentery mixture at a point (HU). */
export function bowelLoopsField(seed: number, hu: BowelOptions): (x: number, y: number, z: number) => number {
  const cells = new Map<number, Loop | null>();
  const warpRandom = streamFor(seed, 'bowel warp');
  const warpX = smoothWobble(warpRandom, 9, 90);
  const warpY = smoothWobble(warpRandom, 9, 90);
  const warpZ = smoothWobble(warpRandom, 9, 90);
  const cellSeed = streamFor(seed, 'bowel cells')() * 0xffffffff;

  function loopOf(ix: number, iy: number, iz: number): Loop | null {
    const key = ((ix + 512) * 1024 + (iy + 512)) * 1024 + (iz + 512);
    const known = cells.get(key);
    if (known !== undefined) return known;
    const random = mulberry32((Math.imul(ix, 73856093) ^ Math.imul(iy, 19349663) ^ Math.imul(iz, 83492791) ^ cellSeed) >>> 0);
    let loop: Loop | null = null;
    const present = random() < 0.92;
    if (present && (iy + 0.5) * CELL_MM < hu.posteriorLimitY) {
      const radius = 9 + 3.5 * random();
      const theta = random() * 2 * Math.PI;
      const cosPhi = random() * 2 - 1;
      const sinPhi = Math.sqrt(1 - cosPhi * cosPhi);
      const room = CELL_MM / 2 - radius - 0.5;
      const halfLength = Math.max(0, room - 2) * random();
      const jitter = Math.max(0, room - halfLength);
      const kind = random();
      loop = {
        cx: (ix + 0.5) * CELL_MM + (random() * 2 - 1) * jitter,
        cy: (iy + 0.5) * CELL_MM + (random() * 2 - 1) * jitter,
        cz: (iz + 0.5) * CELL_MM + (random() * 2 - 1) * jitter,
        dx: sinPhi * Math.cos(theta),
        dy: sinPhi * Math.sin(theta),
        dz: cosPhi,
        halfLength,
        radius,
        content: kind < 0.62 ? 0 : kind < 0.82 ? 1 : 2,
        fluidHu: 8 + 18 * random(),
      };
    }
    cells.set(key, loop);
    return loop;
  }

  return (x, y, z) => {
    const wx = x + warpX(x, y, z);
    const wy = y + warpY(x, y, z);
    const wz = z + warpZ(x, y, z);
    const loop = loopOf(Math.floor(wx / CELL_MM), Math.floor(wy / CELL_MM), Math.floor(wz / CELL_MM));
    if (!loop) return hu.fat;
    const px = wx - loop.cx;
    const py = wy - loop.cy;
    const pz = wz - loop.cz;
    let t = px * loop.dx + py * loop.dy + pz * loop.dz;
    if (t > loop.halfLength) t = loop.halfLength;
    else if (t < -loop.halfLength) t = -loop.halfLength;
    const qx = px - t * loop.dx;
    const qy = py - t * loop.dy;
    const qz = pz - t * loop.dz;
    const d = Math.sqrt(qx * qx + qy * qy + qz * qz) - loop.radius;
    const outside = smoothstep(-0.7, 0.7, d);
    if (outside >= 1) return hu.fat;
    let inner: number;
    if (loop.content === 2) {
      inner = hu.wall - 5;
    } else {
      const insideLumen = smoothstep(-WALL_MM + 0.7, -WALL_MM - 0.7, d);
      // Gas rises anteriorly (towards -y) in a supine patient.
      const gas = loop.content === 1 ? smoothstep(0.7, -0.7, py + loop.radius * 0.2) : 0;
      const lumen = gas * hu.air + (1 - gas) * loop.fluidHu;
      inner = hu.wall + insideLumen * (lumen - hu.wall);
    }
    return inner + outside * (hu.fat - inner);
  };
}
