/**
 * Deterministic data for the sandbox: the records of every async-capable report
 * (docs/api-facts.md §5) and whole result files (§6), generated lazily from (report, rows, seed).
 *
 * Every record is a pure function of (report, seed, index), so the same parameters always give the
 * same bytes, a record can be generated without its predecessors, and memory stays flat whatever
 * `rows` is. Values are deliberately hostile to CSV writers and JSON parsers (Cyrillic, quotes,
 * CR/LF, tabs, formula prefixes, backslashes, astral emoji …).
 */
import { open } from 'node:fs/promises';
import { parseMoscowWallClock } from '../moscow-time.js';
import { findReportByAlias, type ReportSpec } from '../reports/catalog.js';

/** The real API base; hrefs use it unless a sandbox passes its own. */
export const DEFAULT_API_BASE = 'https://api.moysklad.ru/api/remap/1.2';

export interface GenerateOptions {
  rows: number;
  seed: number;
  /** Stores in the account (one `stockByStore[]` element each). Default 3. */
  stores?: number;
  /** Base for every `href` (default: taken from `requestUrl`, else the real API base). */
  baseUrl?: string;
  /** Original request URL; plot series start their buckets at its `momentFrom`/`interval`. */
  requestUrl?: string;
  /** The new assortment (`X-Lognex-Remap-Beta-Feature: assortmentWithoutStock`): no stock fields (§5.10). */
  assortmentWithoutStock?: boolean;
  /**
   * The forms real bodies take where the docs' tables say otherwise (docs/api-facts.md §10.2–§10.6):
   * fractional kopecks, image metas without `type`, stock rows without `stockDays`, the extra
   * counterparty and assortment fields. Off: the shapes the tables describe (and the bytes of older
   * runs with the same seed).
   */
  fieldForms?: boolean;
}

export interface WriteResultOptions extends GenerateOptions {
  report: string;
  /** Stops the generation between chunks (the sandbox closing on a signal, issue 14 item 4). */
  signal?: AbortSignal | undefined;
  /** 2-space pretty print, byte-identical to JSON.stringify(body, null, 2). */
  pretty?: boolean;
  /** Write `meta` after the records (key order is not specified by the API). */
  metaLast?: boolean;
}

/** Values a CSV/JSON pipeline must survive; record i uses entry i % length, so any 16 rows hold all. */
export const HOSTILE_STRINGS: readonly string[] = [
  'Чай зелёный, 100 г',
  'ООО "Север,\nЮг"',
  'ИП Петров; "Опт"',
  'Строка\r\nс CRLF',
  'Таб\tуляция',
  '=SUM(A1:A2)',
  '+7 900 123-45-67',
  '-10% скидка',
  '@упоминание',
  'C:\\путь\\к\\файлу',
  '{"json": [1, 2]} [скобки]',
  'Кофе ☕ и суши 🍣 𝔘𝔫𝔦',
  'Склад «Север»',
  'O\'Reilly; "quoted", comma',
  '  пробелы по краям  ',
  'Ёжик\u00a0неразрывный — тире',
];

const STORE_NAMES = [
  'Основной склад',
  'Склад «Север»',
  'Не основной склад',
  'Склад; "Юг", 2',
  'Магазин\nна Тверской',
  '=Склад',
];
const UOMS = ['шт', 'кг', 'л', 'м', 'упак'];
const FOLDERS = [
  { name: 'Чай', pathName: 'Напитки' },
  { name: 'Кофе, зерно', pathName: 'Напитки/Горячие' },
  { name: 'Одежда "Лето"', pathName: '' },
];
const COMPANY_TYPES = ['legal', 'entrepreneur', 'individual', 'legalKZ'];
const CHANNEL_TYPES = ['ECOMMERCE', 'MESSENGER', 'SOCIAL_NETWORK', 'MARKETPLACE', 'DIRECT_SALES', 'OTHER'];

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** mulberry32: a tiny, fast, well-distributed 32-bit PRNG. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** murmur3's finaliser over several integers: a stable per-(seed, kind, index) seed. */
function mix(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(width, '0').slice(-width);
}

/** A MoySklad-looking UUID that is a pure function of (seed, kind, index). */
function entityId(seed: number, kind: number, index: number): string {
  return `${hex(mix(seed, kind, index), 8)}-2a11-11f0-0a80-${hex(kind, 4)}${hex(index, 8)}`;
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  /** A quantity: mostly whole, sometimes fractional (3 decimals), sometimes negative. */
  quantity(max: number): number {
    const whole = this.int(0, max);
    if (this.chance(0.15)) return -whole;
    if (this.chance(0.2)) return Math.round((whole + this.next()) * 1000) / 1000;
    return whole;
  }
  /** Money in kopecks (whole). */
  money(max: number): number {
    return this.int(0, max) * 100;
  }
  /** Money with a fraction of a kopeck, as averages and unrounded costs come (docs/api-facts.md §10.3). */
  fractionalMoney(max: number): number {
    return this.int(0, max) * 100 + Math.round(this.next() * 1e11) / 1e11;
  }
}

// ---------------------------------------------------------------------------------------------
// 1.0-style floats. JSON.stringify prints 4.0 as 4; the real API sends "4.0" for some Float
// fields (§1.6). In file mode such values are carried as a marked string and unmarked after
// stringify; in object mode they are plain numbers, so JSON.parse(file) equals the objects.

const FLOAT_MARK = '\u0000F:';
const FLOAT_MARK_RE = /"\\u0000F:(-?[0-9.e+-]+)"/g;

type FloatFn = (value: number) => number;

const plainFloat: FloatFn = (value) => value;
const markedFloat: FloatFn = (value) =>
  (Number.isInteger(value) ? `${FLOAT_MARK}${value}.0` : value) as unknown as number;

// ---------------------------------------------------------------------------------------------
// Record builders

interface Ctx {
  base: string;
  seed: number;
  stores: Array<Record<string, unknown>>;
  f: FloatFn;
  /** Plot series: first bucket (ms since epoch, MSK wall clock as UTC) and bucket length. */
  seriesStart: number;
  seriesStepMs: number;
  seriesMonthly: boolean;
  withoutStock: boolean;
  /** Reports with a period, asked with both momentFrom and momentTo: the Moscow days it covers. */
  days?: { first: number; last: number } | undefined;
  fieldForms: boolean;
}

type Builder = (rng: Rng, i: number, ctx: Ctx) => Record<string, unknown>;

const KIND = {
  product: 1,
  variant: 2,
  consignment: 3,
  service: 4,
  bundle: 5,
  store: 6,
  uom: 7,
  folder: 8,
  employee: 9,
  counterparty: 10,
  channel: 11,
  organization: 12,
  account: 13,
  image: 14,
  currency: 15,
  pricetype: 16,
  characteristic: 17,
  group: 18,
  owner: 19,
} as const;

function meta(ctx: Ctx, path: string, type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { href: `${ctx.base}/${path}`, ...extra, type, mediaType: 'application/json' };
}

function entityMeta(ctx: Ctx, type: string, id: string, rng?: Rng, expand?: string): Record<string, unknown> {
  const suffix = expand && rng?.chance(0.5) ? `?expand=${expand}` : '';
  return meta(ctx, `entity/${type}/${id}${suffix}`, type, { metadataHref: `${ctx.base}/entity/${type}/metadata` });
}

function name(i: number, rng: Rng): string {
  // The hostile part leads, so formula prefixes stay at the start of the value.
  return rng.chance(0.5)
    ? `${HOSTILE_STRINGS[i % HOSTILE_STRINGS.length]} ${i}`
    : `${HOSTILE_STRINGS[i % HOSTILE_STRINGS.length]}`;
}

function code(i: number): string {
  return String(i + 1).padStart(5, '0');
}

/** `YYYY-MM-DD HH:mm:ss.SSS` (or without ms) for an MSK wall-clock instant stored as UTC ms. */
export function formatMsk(msUtcWallClock: number, withMs = true): string {
  const iso = new Date(msUtcWallClock).toISOString(); // 2026-03-05T14:07:31.482Z
  return withMs ? `${iso.slice(0, 10)} ${iso.slice(11, 23)}` : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

const BASE_MOMENT = Date.UTC(2026, 0, 1, 9, 0, 0);

function moment(rng: Rng, minuteOnly = false): string {
  const ms = BASE_MOMENT + rng.int(0, 300 * 24 * 60) * 60_000 + (minuteOnly ? 0 : rng.int(0, 59_999));
  return formatMsk(ms, !minuteOnly && rng.chance(0.7));
}

function uom(ctx: Ctx, rng: Rng): Record<string, unknown> {
  const n = rng.int(0, UOMS.length - 1);
  return { meta: meta(ctx, `entity/uom/${entityId(ctx.seed, KIND.uom, n)}`, 'uom'), name: UOMS[n] };
}

function folder(ctx: Ctx, rng: Rng): Record<string, unknown> {
  const n = rng.int(0, FOLDERS.length - 1);
  const f = FOLDERS[n] as { name: string; pathName: string };
  return {
    meta: meta(ctx, `entity/productfolder/${entityId(ctx.seed, KIND.folder, n)}`, 'productfolder'),
    name: f.name,
    pathName: f.pathName,
  };
}

function image(ctx: Ctx, rng: Rng, i: number): Record<string, unknown> {
  const id = entityId(ctx.seed, KIND.image, i);
  const href = `${ctx.base}/download/${id}`;
  return {
    // Real image metas point at the download and carry no `type` (docs/api-facts.md §10.6).
    meta: ctx.fieldForms
      ? { href, mediaType: 'application/octet-stream' }
      : meta(ctx, `entity/product/${entityId(ctx.seed, KIND.product, i)}/images/${id}`, 'image'),
    title: `фото ${i}`,
    filename: `photo_${i}.png`,
    size: rng.int(1000, 900_000),
    updated: moment(rng),
    miniature: { href, mediaType: 'image/png', downloadHref: `${href}?miniature=true` },
    tiny: { href: `${href}?tiny=true`, mediaType: 'image/png' },
  };
}

/** The stock reports' item: goods, variants, now and then a batch. */
function itemMeta(ctx: Ctx, rng: Rng, i: number): Record<string, unknown> {
  const r = rng.float();
  const type = r < 0.6 ? 'product' : r < 0.9 ? 'variant' : 'consignment';
  const expand = type === 'product' ? 'supplier' : 'product.supplier';
  return entityMeta(ctx, type, entityId(ctx.seed, KIND[type], i), rng, expand);
}

const stockAll: Builder = (rng, i, ctx) => {
  const row: Record<string, unknown> = { meta: itemMeta(ctx, rng, i), name: name(i, rng), code: code(i) };
  if (rng.chance(0.7)) row.article = rng.pick(['TG-100', 'A;1', '"арт"', '=1+1', `ART-${i}`]);
  row.externalCode = `ext-${i}`;
  const stock = rng.quantity(500);
  const reserve = rng.quantity(20);
  const inTransit = rng.int(0, 30);
  row.stock = stock;
  row.reserve = reserve;
  row.inTransit = inTransit;
  row.quantity = Math.round((stock - reserve + inTransit) * 1000) / 1000;
  row.price = ctx.f(rng.money(50_000));
  row.salePrice = ctx.f(rng.money(90_000));
  // The docs' own stock/all example has no stockDays in any row (docs/api-facts.md §10.6).
  if (rng.chance(0.8) && !(ctx.fieldForms && rng.chance(0.75))) row.stockDays = rng.int(0, 400);
  row.uom = uom(ctx, rng);
  if (rng.chance(0.7)) row.folder = folder(ctx, rng);
  if (rng.chance(0.2)) row.image = image(ctx, rng, i);
  if (ctx.fieldForms) {
    // Cost is an average: 50260.86956521739 kopecks in the docs' example (docs/api-facts.md §10.3).
    if (rng.chance(0.3)) row.price = rng.fractionalMoney(50_000);
    const id = (row.meta as { href: string }).href.replace(/\?.*$/, '');
    const collection = { type: 'image', mediaType: 'application/json', size: rng.int(0, 3), limit: 1000, offset: 0 };
    row.images = { meta: { href: `${id}/images`, ...collection } };
  }
  return row;
};

const stockByStore: Builder = (rng, i, ctx) => ({
  meta: itemMeta(ctx, rng, i),
  stockByStore: ctx.stores.map((store) => {
    const zero = rng.chance(0.35);
    return {
      meta: store.meta,
      name: store.name,
      stock: zero ? 0 : rng.quantity(300),
      reserve: zero ? 0 : rng.int(0, 5),
      inTransit: zero ? 0 : rng.int(0, 12),
    };
  }),
});

function profitA(rng: Rng, ctx: Ctx): Record<string, unknown> {
  const sellQuantity = rng.chance(0.2) ? Math.round(rng.float() * 10_000) / 1000 : rng.int(0, 200);
  const sellPrice = rng.money(20_000);
  const sellCost = Math.round(sellPrice * (0.3 + rng.float() * 0.6));
  const returnQuantity = rng.chance(0.7) ? 0 : rng.int(1, 5);
  const sellSum = sellPrice * sellQuantity;
  const sellCostSum = sellCost * sellQuantity;
  const returnSum = sellPrice * returnQuantity;
  const returnCostSum = sellCost * returnQuantity;
  const profit = Math.round(sellSum - sellCostSum - (returnSum - returnCostSum));
  const f = ctx.f;
  // An average price: 216174.97396737244 kopecks in the docs' profit example (docs/api-facts.md §10.3).
  const averagePrice = ctx.fieldForms && rng.chance(0.4) ? rng.fractionalMoney(20_000) : sellPrice;
  return {
    sellQuantity: f(sellQuantity),
    sellPrice: f(averagePrice),
    sellCost: f(sellCost),
    sellSum: f(Math.round(sellSum)),
    sellCostSum: f(Math.round(sellCostSum)),
    returnQuantity: f(returnQuantity),
    returnPrice: f(returnQuantity ? sellPrice : 0),
    returnCost: f(returnQuantity ? sellCost : 0),
    returnSum: f(returnSum),
    returnCostSum: f(returnCostSum),
    profit: f(profit),
    margin: f(sellCostSum ? Math.round((profit / sellCostSum) * 10_000) / 10_000 : 0),
    salesMargin: f(sellSum ? Math.round((profit / sellSum) * 10_000) / 10_000 : 0),
  };
}

function profitB(rng: Rng, ctx: Ctx): Record<string, unknown> {
  const salesCount = rng.int(0, 300);
  const returnCount = rng.chance(0.6) ? 0 : rng.int(1, 10);
  const salesAvgCheck = rng.money(50_000);
  const sellSum = salesAvgCheck * salesCount;
  const sellCostSum = Math.round(sellSum * 0.6);
  const returnAvgCheck = returnCount ? rng.money(30_000) : 0;
  const returnSum = returnAvgCheck * returnCount;
  const returnCostSum = Math.round(returnSum * 0.6);
  const profit = sellSum - sellCostSum - (returnSum - returnCostSum);
  const f = ctx.f;
  return {
    // Documented Int, sometimes sent as 1.0 (§1.6).
    salesCount: rng.chance(0.5) ? f(salesCount) : salesCount,
    salesAvgCheck: f(salesAvgCheck),
    sellSum: f(sellSum),
    sellCostSum: f(sellCostSum),
    returnCount,
    returnAvgCheck: f(returnAvgCheck),
    returnSum: f(returnSum),
    returnCostSum: f(returnCostSum),
    profit: f(profit),
    margin: f(sellCostSum ? Math.round((profit / sellCostSum) * 10_000) / 10_000 : 0),
    salesMargin: f(sellSum ? Math.round((profit / sellSum) * 10_000) / 10_000 : 0),
  };
}

function profitAssortment(variants: boolean): Builder {
  return (rng, i, ctx) => {
    const r = rng.float();
    const type = r < 0.6 ? 'product' : r < 0.75 ? 'service' : r < 0.85 ? 'bundle' : variants ? 'variant' : 'product';
    const assortment: Record<string, unknown> = {
      meta: entityMeta(ctx, type, entityId(ctx.seed, KIND[type], i), rng, type === 'variant' ? 'product' : undefined),
      name: name(i, rng),
    };
    if (variants || rng.chance(0.8)) assortment.code = code(i);
    if (type !== 'service' && rng.chance(0.8)) assortment.uom = uom(ctx, rng);
    if (variants || rng.chance(0.5)) assortment.article = `A-${i}`;
    if (rng.chance(variants ? 0.5 : 0.15)) assortment.image = image(ctx, rng, i);
    return { assortment, ...profitA(rng, ctx) };
  };
}

const profitByEmployee: Builder = (rng, i, ctx) => ({
  employee: { meta: entityMeta(ctx, 'employee', entityId(ctx.seed, KIND.employee, i)), name: name(i, rng) },
  ...profitB(rng, ctx),
});

const profitByCounterparty: Builder = (rng, i, ctx) => ({
  counterparty: { meta: entityMeta(ctx, 'counterparty', entityId(ctx.seed, KIND.counterparty, i)), name: name(i, rng) },
  ...profitB(rng, ctx),
});

const profitBySalesChannel: Builder = (rng, i, ctx) => ({
  salesChannel: {
    meta: entityMeta(ctx, 'saleschannel', entityId(ctx.seed, KIND.channel, i)),
    name: name(i, rng),
    type: rng.pick(CHANNEL_TYPES),
  },
  ...profitB(rng, ctx),
});

function seriesDate(ctx: Ctx, i: number): string {
  if (ctx.seriesMonthly) {
    const d = new Date(ctx.seriesStart);
    return formatMsk(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + i, 1), false);
  }
  return formatMsk(ctx.seriesStart + i * ctx.seriesStepMs, false);
}

const moneySeries: Builder = (rng, i, ctx) => {
  const credit = rng.chance(0.3) ? 0 : rng.money(5_000);
  const debit = rng.chance(0.4) ? 0 : rng.money(3_000);
  return { date: seriesDate(ctx, i), credit, debit, balance: credit - debit };
};

const quantitySeries: Builder = (rng, i, ctx) => {
  const quantity = rng.chance(0.3) ? 0 : rng.int(1, 40);
  return { date: seriesDate(ctx, i), quantity, sum: ctx.f(quantity ? rng.money(100_000) : 0) };
};

const moneyByAccount: Builder = (rng, i, ctx) => {
  const orgIndex = Math.floor(i / 3);
  const orgId = entityId(ctx.seed, KIND.organization, orgIndex);
  const row: Record<string, unknown> = {
    organization: {
      meta: entityMeta(ctx, 'organization', orgId),
      name: HOSTILE_STRINGS[orgIndex % HOSTILE_STRINGS.length],
    },
  };
  // Every third row is the organization's cash desk: no account.
  if (i % 3 !== 0) {
    row.account = {
      meta: meta(ctx, `entity/organization/${orgId}/accounts/${entityId(ctx.seed, KIND.account, i)}`, 'account'),
      name: `4070281090000${String(i).padStart(7, '0')}`,
    };
  }
  row.balance = rng.chance(0.3) ? Math.round((rng.float() - 0.3) * 1_000_000) / 100 : rng.money(100_000);
  return row;
};

const counterpartyReport: Builder = (rng, i, ctx) => {
  const id = entityId(ctx.seed, KIND.counterparty, i);
  const counterparty: Record<string, unknown> = {
    meta: entityMeta(ctx, 'counterparty', id),
    id,
    name: name(i, rng),
    externalCode: `c-${i}`,
    companyType: rng.pick(COMPANY_TYPES),
  };
  if (rng.chance(0.6)) counterparty.inn = String(7_700_000_000 + i);
  const demandsCount = rng.chance(0.2) ? 0 : rng.int(1, 50);
  const demandsSum = demandsCount ? rng.money(1_000_000) : 0;
  const row: Record<string, unknown> = {
    meta: meta(ctx, `report/counterparty/${id}`, 'counterparty'),
    counterparty,
    firstDemandDate: demandsCount ? moment(rng, true) : null,
    lastDemandDate: demandsCount ? moment(rng, true) : null,
    demandsCount,
    demandsSum,
    averageReceipt: demandsCount ? Math.round(demandsSum / demandsCount) : 0,
    returnsCount: rng.chance(0.7) ? 0 : rng.int(1, 5),
    returnsSum: rng.money(10_000),
    discountsSum: rng.money(2_000),
    balance: rng.chance(0.4) ? -rng.money(50_000) : rng.money(50_000),
  };
  if (rng.chance(0.7)) row.bonusBalance = rng.int(0, 500);
  row.profit = Math.round((rng.float() - 0.2) * 5_000_000);
  const hasEvent = rng.chance(0.4);
  row.lastEventDate = hasEvent ? moment(rng) : null;
  row.lastEventText = hasEvent ? HOSTILE_STRINGS[(i + 3) % HOSTILE_STRINGS.length] : null;
  row.updated = moment(rng);
  return row;
};

const dashboard: Builder = (rng) => ({
  sales: { count: rng.int(0, 50), amount: rng.money(50_000), movementAmount: -rng.money(1_000) },
  orders: { count: rng.int(0, 20), amount: rng.money(40_000), movementAmount: 0 },
  money: {
    income: rng.money(70_000),
    outcome: rng.money(25_000),
    balance: rng.money(400_000),
    todayMovement: Math.round(rng.float() * 100_000) / 100,
    movement: rng.money(45_000) - 500_000,
  },
});

const counterpartyEntity: Builder = (rng, i, ctx) => {
  const id = entityId(ctx.seed, KIND.counterparty, i);
  const companyType = rng.pick(COMPANY_TYPES);
  const href = `entity/counterparty/${id}`;
  const row: Record<string, unknown> = {
    meta: meta(ctx, href, 'counterparty', {
      metadataHref: `${ctx.base}/entity/counterparty/metadata`,
      uuidHref: `https://online.moysklad.ru/app/#company/edit?id=${id}`,
    }),
    id,
    accountId: entityId(ctx.seed, 0, 1),
    owner: { meta: entityMeta(ctx, 'employee', entityId(ctx.seed, KIND.owner, i % 7)) },
    shared: rng.chance(0.8),
    group: {
      meta: meta(ctx, `entity/group/${entityId(ctx.seed, KIND.group, 0)}`, 'group', {
        metadataHref: `${ctx.base}/entity/group/metadata`,
      }),
    },
    updated: moment(rng),
    name: name(i, rng),
    externalCode: `c-${i}`,
    archived: rng.chance(0.1),
    created: moment(rng),
    companyType,
  };
  if (rng.chance(0.5)) row.code = code(i);
  if (rng.chance(0.4)) row.description = HOSTILE_STRINGS[(i + 5) % HOSTILE_STRINGS.length];
  if (rng.chance(0.5)) row.email = `client${i}@пример.рф`;
  if (rng.chance(0.5)) row.phone = rng.pick(['+7 (495) 123-45-67', '=+7 900', '8-800-555-35-35']);
  if (companyType === 'legal' || companyType === 'legalKZ') {
    row.legalTitle = `ООО «${HOSTILE_STRINGS[i % HOSTILE_STRINGS.length]}»`;
    row.inn = String(7_700_000_000 + i);
    row.kpp = '770101001';
    if (rng.chance(0.5)) row.ogrn = '1027700132195';
    if (rng.chance(0.5)) {
      row.legalAddress = 'г. Москва, ул. Тверская, д. 1; офис "5"';
      row.legalAddressFull = {
        postalCode: '125009',
        city: 'Москва',
        street: 'Тверская',
        house: '1',
        addInfo: 'офис "5"',
      };
    }
  } else if (companyType === 'individual') {
    row.legalFirstName = 'Иван';
    row.legalLastName = 'Петров';
    if (rng.chance(0.5)) row.sex = rng.pick(['MALE', 'FEMALE']);
    if (rng.chance(0.3)) row.birthDate = moment(rng, true);
  } else {
    row.inn = String(500_100_000_000 + i);
    row.ogrnip = '304500116000157';
  }
  const tagCount = rng.int(0, 2);
  row.tags = ['опт', 'москва, центр', '"vip"'].slice(0, tagCount); // often []
  row.salesAmount = rng.chance(0.4) ? 0 : rng.money(1_000_000);
  row.accounts = { meta: meta(ctx, `${href}/accounts`, 'account', { size: rng.int(0, 2), limit: 1000, offset: 0 }) };
  row.contactpersons = {
    meta: meta(ctx, `${href}/contactpersons`, 'contactperson', { size: 0, limit: 1000, offset: 0 }),
  };
  row.notes = { meta: meta(ctx, `${href}/notes`, 'note', { size: 0, limit: 1000, offset: 0 }) };
  if (rng.chance(0.3)) {
    row.attributes = [
      {
        meta: meta(
          ctx,
          `entity/counterparty/metadata/attributes/${entityId(ctx.seed, KIND.characteristic, 0)}`,
          'attributemetadata',
        ),
        id: entityId(ctx.seed, KIND.characteristic, 0),
        name: 'Комментарий',
        type: 'string',
        value: HOSTILE_STRINGS[(i + 1) % HOSTILE_STRINGS.length],
      },
    ];
  }
  if (rng.chance(0.3)) row.discounts = [];
  if (ctx.fieldForms) addCounterpartyFieldForms(row, rng, i, ctx, href);
  return row;
};

/** What the docs' counterparty list example carries beyond the field table (docs/api-facts.md §10.5, §10.6). */
function addCounterpartyFieldForms(row: Record<string, unknown>, rng: Rng, i: number, ctx: Ctx, href: string): void {
  const countryId = '9df7c2c3-7782-4c5c-a8ed-1102af611608'; // Russia, as in the docs' examples
  const metadataOf = (type: string): string => `${ctx.base}/entity/${type}/metadata`;
  const regionId = `00000000-0000-0000-0000-0000000000${String(rng.int(10, 99))}`;
  if (rng.chance(0.7)) {
    row.actualAddress = `125009, Россия, г Москва, ул Тверская, ${i}; кв. "${i % 90}"`;
    row.actualAddressFull = {
      postalCode: '125009',
      country: { meta: meta(ctx, `entity/country/${countryId}`, 'country', { metadataHref: metadataOf('country') }) },
      region: { meta: meta(ctx, `entity/region/${regionId}`, 'region', { metadataHref: metadataOf('region') }) },
      city: 'Москва',
      street: 'ул Тверская',
      house: String((i % 40) + 1),
      apartment: String(i % 90),
      addInfo: 'addinfo',
      comment: HOSTILE_STRINGS[(i + 7) % HOSTILE_STRINGS.length],
    };
  }
  if (rng.chance(0.6)) {
    const stateId = entityId(ctx.seed, KIND.group, 1 + (i % 3));
    row.state = { meta: meta(ctx, `entity/counterparty/metadata/states/${stateId}`, 'state') };
  }
  if (rng.chance(0.5)) {
    const priceTypeId = entityId(ctx.seed, KIND.pricetype, 0);
    row.priceType = {
      meta: meta(ctx, `context/companysettings/pricetype/${priceTypeId}`, 'pricetype'),
      id: priceTypeId,
      name: 'Цена продажи',
      externalCode: 'cbcf493b-55bc-11d9-848a-00112f43529a',
    };
  }
  if (rng.chance(0.4)) {
    const programId = entityId(ctx.seed, KIND.group, 9);
    row.bonusProgram = {
      meta: meta(ctx, `entity/bonusprogram/${programId}`, 'bonusprogram', {
        metadataHref: metadataOf('bonusprogram'),
        uuidHref: `https://online.moysklad.ru/app/#discount/edit?id=${programId}`,
      }),
    };
    row.bonusPoints = rng.chance(0.5) ? 0 : rng.int(1, 5000);
  }
  row.files = { meta: meta(ctx, `${href}/files`, 'files', { size: rng.int(0, 2), limit: 1000, offset: 0 }) };
}

function salePrices(ctx: Ctx, rng: Rng): Array<Record<string, unknown>> {
  return [
    {
      value: ctx.f(rng.money(200_000)),
      currency: { meta: entityMeta(ctx, 'currency', entityId(ctx.seed, KIND.currency, 0)) },
      priceType: {
        meta: meta(ctx, `context/companysettings/pricetype/${entityId(ctx.seed, KIND.pricetype, 0)}`, 'pricetype'),
        id: entityId(ctx.seed, KIND.pricetype, 0),
        name: 'Цена продажи',
        externalCode: 'retail',
      },
    },
  ];
}

const assortment: Builder = (rng, i, ctx) => {
  const r = rng.float();
  const type = r < 0.5 ? 'product' : r < 0.65 ? 'service' : r < 0.75 ? 'bundle' : r < 0.92 ? 'variant' : 'consignment';
  const id = entityId(ctx.seed, KIND[type], i);
  const row: Record<string, unknown> = {
    meta: entityMeta(ctx, type, id),
    id,
    accountId: entityId(ctx.seed, 0, 1),
    updated: moment(rng),
    name: name(i, rng),
    code: code(i),
    externalCode: `ext-${i}`,
    archived: rng.chance(0.05),
  };
  if (rng.chance(0.7)) row.article = `ART-${i}`;
  row.salePrices = salePrices(ctx, rng);
  row.barcodes = rng.chance(0.3) ? [] : [{ ean13: `2000000${String(i).padStart(6, '0')}` }];
  if (type === 'product' || type === 'service' || type === 'bundle') {
    row.owner = { meta: entityMeta(ctx, 'employee', entityId(ctx.seed, KIND.owner, i % 7)) };
    row.shared = true;
    row.group = { meta: meta(ctx, `entity/group/${entityId(ctx.seed, KIND.group, 0)}`, 'group') };
    row.pathName = (FOLDERS[i % FOLDERS.length] as { pathName: string }).pathName;
    row.vat = rng.pick([0, 10, 20]);
    row.vatEnabled = rng.chance(0.8);
    row.useParentVat = true;
    row.effectiveVat = row.vat;
    row.effectiveVatEnabled = row.vatEnabled;
    if (type !== 'service') row.uom = { meta: uom(ctx, rng).meta };
    row.images = { meta: meta(ctx, `entity/${type}/${id}/images`, 'image', { size: 0, limit: 1000, offset: 0 }) };
    row.minPrice = {
      value: ctx.f(rng.money(1_000)),
      currency: { meta: entityMeta(ctx, 'currency', entityId(ctx.seed, KIND.currency, 0)) },
    };
    row.buyPrice = {
      value: ctx.f(rng.money(50_000)),
      currency: { meta: entityMeta(ctx, 'currency', entityId(ctx.seed, KIND.currency, 0)) },
    };
    if (rng.chance(0.4))
      row.supplier = { meta: entityMeta(ctx, 'counterparty', entityId(ctx.seed, KIND.counterparty, i % 11)) };
    if (type !== 'service') {
      row.weight = rng.chance(0.5) ? 0 : Math.round(rng.float() * 10_000) / 1000;
      row.volume = 0;
      row.variantsCount = rng.int(0, 3);
      row.isSerialTrackable = false;
    }
    if (type === 'bundle') {
      row.components = {
        meta: meta(ctx, `entity/bundle/${id}/components`, 'bundlecomponent', { size: 2, limit: 1000, offset: 0 }),
      };
    }
  } else if (type === 'variant') {
    row.characteristics = [
      {
        meta: meta(
          ctx,
          `entity/variant/metadata/characteristics/${entityId(ctx.seed, KIND.characteristic, 1)}`,
          'attributemetadata',
        ),
        id: entityId(ctx.seed, KIND.characteristic, 1),
        name: 'Размер',
        value: rng.pick(['XL', 'S, M', '"42"', '=L']),
      },
    ];
    row.product = { meta: entityMeta(ctx, 'product', entityId(ctx.seed, KIND.product, i)) };
  } else {
    row.label = `партия ${i}; "${HOSTILE_STRINGS[i % HOSTILE_STRINGS.length]}"`;
    row.assortment = { meta: entityMeta(ctx, 'product', entityId(ctx.seed, KIND.product, i)) };
  }
  // The legacy assortment (no beta header) carries stock for goods, variants and batches.
  if (!ctx.withoutStock && (type === 'product' || type === 'variant' || type === 'consignment')) {
    row.stock = rng.quantity(100);
    row.reserve = rng.int(0, 3);
    row.inTransit = 0;
    row.quantity = Math.round(((row.stock as number) - (row.reserve as number)) * 1000) / 1000;
  }
  if (ctx.fieldForms) addAssortmentFieldForms(row, rng, i, type, id, ctx);
  return row;
};

/** What the docs' assortment example carries beyond the field table (docs/api-facts.md §10.5, §10.6). */
function addAssortmentFieldForms(
  row: Record<string, unknown>,
  rng: Rng,
  i: number,
  type: string,
  id: string,
  ctx: Ctx,
): void {
  if (rng.chance(0.5)) row.description = HOSTILE_STRINGS[(i + 2) % HOSTILE_STRINGS.length];
  if (type === 'product' || type === 'service' || type === 'bundle') {
    row.paymentItemType = type === 'service' ? 'SERVICE' : rng.pick(['GOOD', 'GOOD', 'WORK', 'COMPOUND_PAYMENT_ITEM']);
    row.discountProhibited = rng.chance(0.1);
    if (type !== 'service') row.trackingType = rng.pick(['NOT_TRACKED', 'NOT_TRACKED', 'SHOES', 'MILK', 'WATER']);
    const files = { size: rng.int(0, 2), limit: 1000, offset: 0 };
    row.files = { meta: meta(ctx, `entity/${type}/${id}/files`, 'files', files) };
    // Whole kopecks written Java-style next to a fraction: `0.0`, `1800.0`, `129.5` (docs/api-facts.md §10.2, §10.3).
    const prices = row.salePrices as Array<Record<string, unknown>>;
    if (prices[0] && rng.chance(0.3)) prices[0].value = rng.fractionalMoney(200_000);
  }
}

interface Layout {
  builder: Builder;
  shape: 'rows' | 'series' | 'money-series' | 'root';
  kind: number;
}

const LAYOUTS: Record<string, Layout> = {
  'stock-all': { builder: stockAll, shape: 'rows', kind: 101 },
  'stock-bystore': { builder: stockByStore, shape: 'rows', kind: 102 },
  'profit-byproduct': { builder: profitAssortment(false), shape: 'rows', kind: 103 },
  'profit-byvariant': { builder: profitAssortment(true), shape: 'rows', kind: 104 },
  'profit-byemployee': { builder: profitByEmployee, shape: 'rows', kind: 105 },
  'profit-bycounterparty': { builder: profitByCounterparty, shape: 'rows', kind: 106 },
  'profit-bysaleschannel': { builder: profitBySalesChannel, shape: 'rows', kind: 107 },
  'money-plotseries': { builder: moneySeries, shape: 'money-series', kind: 108 },
  'money-byaccount': { builder: moneyByAccount, shape: 'rows', kind: 109 },
  'sales-plotseries': { builder: quantitySeries, shape: 'series', kind: 110 },
  'orders-plotseries': { builder: quantitySeries, shape: 'series', kind: 111 },
  'counterparty-report': { builder: counterpartyReport, shape: 'rows', kind: 112 },
  'dashboard-day': { builder: dashboard, shape: 'root', kind: 113 },
  'dashboard-week': { builder: dashboard, shape: 'root', kind: 114 },
  'dashboard-month': { builder: dashboard, shape: 'root', kind: 115 },
  counterparty: { builder: counterpartyEntity, shape: 'rows', kind: 116 },
  assortment: { builder: assortment, shape: 'rows', kind: 117 },
};

function layoutOf(report: string): { layout: Layout; spec: ReportSpec } {
  const layout = LAYOUTS[report];
  const spec = findReportByAlias(report);
  if (!layout || !spec) throw new Error(`unknown report alias: ${report}`);
  return { layout, spec };
}

function baseOf(opts: GenerateOptions): string {
  if (opts.baseUrl) return opts.baseUrl.replace(/\/+$/, '');
  const marker = '/api/remap/1.2';
  const at = opts.requestUrl?.indexOf(marker) ?? -1;
  return at >= 0 && opts.requestUrl ? opts.requestUrl.slice(0, at + marker.length) : DEFAULT_API_BASE;
}

const DAY_MS = 86_400_000;
/** Records one day of a period report may hold: 0 to this minus one, by a hash of (seed, kind, day). */
const DAY_SLOTS = 4;

/**
 * The days a period report (catalogue `period`, records in rows[]) was asked for. Its records are
 * then generated per day — a pure function of (seed, report, day, slot) — so that the records of a
 * period are exactly the records of its slices, in order (issue 9: a split export equals the
 * single exports, and their union equals the whole).
 */
function periodDays(spec: ReportSpec, requestUrl: string | undefined): { first: number; last: number } | undefined {
  if (spec.period !== true || spec.records !== 'rows' || !requestUrl) return undefined;
  const params = new URL(requestUrl).searchParams;
  const from = parseMoscowWallClock(params.get('momentFrom'));
  const to = parseMoscowWallClock(params.get('momentTo'));
  if (from === undefined || to === undefined || to < from) return undefined;
  return { first: Math.floor(from / DAY_MS), last: Math.floor(to / DAY_MS) };
}

function recordsOfDay(seed: number, kind: number, day: number): number {
  return mix(seed >>> 0, kind, day, 0x9e3) % DAY_SLOTS;
}

function makeCtx(opts: GenerateOptions, f: FloatFn, spec: ReportSpec): Ctx {
  const base = baseOf(opts);
  const storeCount = Math.max(1, opts.stores ?? 3);
  const stores: Array<Record<string, unknown>> = [];
  for (let s = 0; s < storeCount; s++) {
    const id = entityId(opts.seed, KIND.store, s);
    stores.push({
      meta: {
        href: `${base}/entity/store/${id}`,
        metadataHref: `${base}/entity/store/metadata`,
        type: 'store',
        mediaType: 'application/json',
      },
      name: s < STORE_NAMES.length ? STORE_NAMES[s] : `Склад №${s + 1}`,
    });
  }
  let seriesStart = Date.UTC(2026, 2, 1);
  let interval = 'day';
  if (opts.requestUrl) {
    const params = new URL(opts.requestUrl).searchParams;
    seriesStart = parseMoscowWallClock(params.get('momentFrom')) ?? seriesStart;
    interval = params.get('interval') ?? interval;
  }
  return {
    base,
    seed: opts.seed >>> 0,
    stores,
    f,
    seriesStart,
    days: periodDays(spec, opts.requestUrl),
    seriesStepMs: interval === 'hour' ? 3_600_000 : 86_400_000,
    seriesMonthly: interval === 'month',
    withoutStock: opts.assortmentWithoutStock === true,
    fieldForms: opts.fieldForms === true,
  };
}

function* records(
  report: string,
  opts: GenerateOptions,
  f: FloatFn,
  start = 0,
  end = Infinity,
): Generator<Record<string, unknown>> {
  const { layout, spec } = layoutOf(report);
  const ctx = makeCtx(opts, f, spec);
  if (ctx.days) {
    let position = 0;
    for (let day = ctx.days.first; day <= ctx.days.last && position < end; day++) {
      for (let slot = 0, n = recordsOfDay(ctx.seed, layout.kind, day); slot < n; slot++, position++) {
        const i = day * DAY_SLOTS + slot;
        if (position >= start && position < end) yield layout.builder(new Rng(mix(ctx.seed, layout.kind, i)), i, ctx);
      }
    }
    return;
  }
  const count = Math.min(end, layout.shape === 'root' ? 1 : Math.max(0, Math.floor(opts.rows)));
  for (let i = Math.max(0, start); i < count; i++) {
    yield layout.builder(new Rng(mix(ctx.seed, layout.kind, i)), i, ctx);
  }
}

/**
 * The records of a report (the elements of rows[]/series[], or the one dashboard object), lazily.
 * Same (report, rows, seed, stores) → identical records.
 */
export function generateRecords(
  report: string,
  opts: {
    rows: number;
    seed: number;
    stores?: number;
    baseUrl?: string;
    requestUrl?: string;
    assortmentWithoutStock?: boolean;
    fieldForms?: boolean;
  },
): Iterable<Record<string, unknown>> {
  layoutOf(report); // fail fast on an unknown alias
  return records(report, opts, plainFloat);
}

/** Records [from, to) of what generateRecords yields: a synchronous page without generating the rest. */
export function generateRecordRange(
  report: string,
  opts: GenerateOptions,
  from: number,
  to: number,
): Iterable<Record<string, unknown>> {
  layoutOf(report);
  return records(report, opts, plainFloat, from, to);
}

/** How many records `generateRecords` yields for these options. */
export function recordCount(report: string, rows: number, requestUrl?: string, seed = 1): number {
  const { layout, spec } = layoutOf(report);
  const days = periodDays(spec, requestUrl);
  if (days) {
    let n = 0;
    for (let day = days.first; day <= days.last; day++) n += recordsOfDay(seed, layout.kind, day);
    return n;
  }
  return layout.shape === 'root' ? 1 : Math.max(0, Math.floor(rows));
}

const CHUNK_CHARS = 1 << 20;

/**
 * Streams a whole result file to `path` (§6): `{context, meta, rows}`, `{context, meta, credit,
 * debit, series}`, `{context, meta, series}` or the bare dashboard object. Flat memory: records are
 * serialised one at a time into ~1 MB chunks, each awaited on the file handle.
 */
export async function writeResultFile(
  path: string,
  opts: WriteResultOptions,
): Promise<{ bytes: number; records: number }> {
  const { layout, spec } = layoutOf(opts.report);
  const pretty = opts.pretty === true;
  const base = baseOf(opts);
  const requestUrl = opts.requestUrl ?? `${base}${spec.path}?async=true`;
  const handle = await open(path, 'w');
  let bytes = 0;
  let count = 0;
  let chunk = '';
  const flush = async (): Promise<void> => {
    opts.signal?.throwIfAborted();
    if (chunk.length === 0) return;
    const buffer = Buffer.from(chunk, 'utf8');
    chunk = '';
    bytes += buffer.length;
    await handle.write(buffer);
  };
  const emit = async (text: string): Promise<void> => {
    chunk += text;
    if (chunk.length >= CHUNK_CHARS) await flush();
  };
  const stringify = (value: unknown, indent: string): string => {
    const text = (pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value)).replace(FLOAT_MARK_RE, '$1');
    return pretty && indent ? text.replace(/\n/g, `\n${indent}`) : text;
  };
  // One top-level member, with the separator that precedes it.
  let members = 0;
  const member = async (key: string, value: unknown): Promise<void> => {
    await emit(
      `${members++ ? ',' : ''}${pretty ? '\n  ' : ''}${JSON.stringify(key)}:${pretty ? ' ' : ''}${stringify(value, '  ')}`,
    );
  };
  try {
    const opts2: GenerateOptions = { ...opts, baseUrl: base, requestUrl };
    if (layout.shape === 'root') {
      for (const record of records(opts.report, opts2, markedFloat)) {
        await emit(stringify(record, ''));
        count++;
      }
    } else {
      const context = {
        employee: {
          href: `${base}/context/employee`,
          metadataHref: `${base}/entity/employee/metadata`,
          type: 'employee',
          mediaType: 'application/json',
        },
      };
      const metaObj: Record<string, unknown> = {
        href: requestUrl,
        type: spec.resultType ?? opts.report,
        mediaType: 'application/json',
      };
      if (layout.shape === 'rows') metaObj.size = recordCount(opts.report, opts.rows, requestUrl, opts.seed);
      await emit('{');
      await member('context', context);
      if (!opts.metaLast) await member('meta', metaObj);
      if (layout.shape === 'money-series') {
        // Period totals come before the series, as in the example; a cheap first pass sums them.
        let credit = 0;
        let debit = 0;
        for (const r of records(opts.report, opts2, plainFloat)) {
          credit += r.credit as number;
          debit += r.debit as number;
        }
        await member('credit', credit);
        await member('debit', debit);
      }
      const key = layout.shape === 'rows' ? 'rows' : 'series';
      await emit(`${members++ ? ',' : ''}${pretty ? '\n  ' : ''}${JSON.stringify(key)}:${pretty ? ' ' : ''}[`);
      for (const record of records(opts.report, opts2, markedFloat)) {
        await emit(`${count ? ',' : ''}${pretty ? '\n    ' : ''}${stringify(record, '    ')}`);
        count++;
      }
      await emit(count && pretty ? '\n  ]' : ']');
      if (opts.metaLast) await member('meta', metaObj);
      await emit(pretty ? '\n}' : '}');
    }
    await flush();
  } finally {
    await handle.close();
  }
  return { bytes, records: count };
}
