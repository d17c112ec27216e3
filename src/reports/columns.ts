/**
 * The columns each catalogue report can produce in CSV (after flattening: `meta` → `meta.id`,
 * `meta.type`; nested objects dotted; the detail array exploded), from the row shapes of
 * docs/api-facts.md §5. `--columns` naming anything else is a typo, refused before any request.
 * test/reports/columns.test.ts checks this table against the sandbox generator, so they cannot drift.
 */
import type { ReportSpec } from './catalog.js';

const IMAGE = (prefix: string): string[] => [
  'meta.id', 'meta.type', 'title', 'filename', 'size', 'updated',
  'miniature.href', 'miniature.mediaType', 'miniature.downloadHref', 'tiny.href', 'tiny.mediaType',
].map((c) => `${prefix}image.${c}`);

export const REPORT_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  'stock-all': [
    'meta.id', 'meta.type', 'name', 'code', 'externalCode', 'stock', 'reserve', 'inTransit', 'quantity', 'price',
    'salePrice', 'stockDays', 'uom.meta.id', 'uom.meta.type', 'uom.name', 'folder.meta.id', 'folder.meta.type',
    'folder.name', 'folder.pathName', 'article', ...IMAGE(''),
  ],
  'stock-bystore': [
    'meta.id', 'meta.type', 'stockByStore.meta.id', 'stockByStore.meta.type', 'stockByStore.name',
    'stockByStore.stock', 'stockByStore.reserve', 'stockByStore.inTransit',
  ],
  'profit-byproduct': [
    'assortment.meta.id', 'assortment.meta.type', 'assortment.name', 'assortment.uom.meta.id',
    'assortment.uom.meta.type', 'assortment.uom.name', 'assortment.article', 'sellQuantity', 'sellPrice', 'sellCost',
    'sellSum', 'sellCostSum', 'returnQuantity', 'returnPrice', 'returnCost', 'returnSum', 'returnCostSum', 'profit',
    'margin', 'salesMargin', 'assortment.code', ...IMAGE('assortment.'),
  ],
  'profit-byvariant': [
    'assortment.meta.id', 'assortment.meta.type', 'assortment.name', 'assortment.code', 'assortment.article',
    'sellQuantity', 'sellPrice', 'sellCost', 'sellSum', 'sellCostSum', 'returnQuantity', 'returnPrice', 'returnCost',
    'returnSum', 'returnCostSum', 'profit', 'margin', 'salesMargin', 'assortment.uom.meta.id',
    'assortment.uom.meta.type', 'assortment.uom.name', ...IMAGE('assortment.'),
  ],
  'profit-byemployee': [
    'employee.meta.id', 'employee.meta.type', 'employee.name', 'salesCount', 'salesAvgCheck', 'sellSum',
    'sellCostSum', 'returnCount', 'returnAvgCheck', 'returnSum', 'returnCostSum', 'profit', 'margin', 'salesMargin',
  ],
  'profit-bycounterparty': [
    'counterparty.meta.id', 'counterparty.meta.type', 'counterparty.name', 'salesCount', 'salesAvgCheck', 'sellSum',
    'sellCostSum', 'returnCount', 'returnAvgCheck', 'returnSum', 'returnCostSum', 'profit', 'margin', 'salesMargin',
  ],
  'profit-bysaleschannel': [
    'salesChannel.meta.id', 'salesChannel.meta.type', 'salesChannel.name', 'salesChannel.type', 'salesCount',
    'salesAvgCheck', 'sellSum', 'sellCostSum', 'returnCount', 'returnAvgCheck', 'returnSum', 'returnCostSum',
    'profit', 'margin', 'salesMargin',
  ],
  'money-plotseries': [
    'date', 'credit', 'debit', 'balance',
  ],
  'money-byaccount': [
    'organization.meta.id', 'organization.meta.type', 'organization.name', 'balance', 'account.meta.id',
    'account.meta.type', 'account.name',
  ],
  'sales-plotseries': [
    'date', 'quantity', 'sum',
  ],
  'orders-plotseries': [
    'date', 'quantity', 'sum',
  ],
  'counterparty-report': [
    'meta.id', 'meta.type', 'counterparty.meta.id', 'counterparty.meta.type', 'counterparty.id', 'counterparty.name',
    'counterparty.externalCode', 'counterparty.companyType', 'counterparty.inn', 'firstDemandDate', 'lastDemandDate',
    'demandsCount', 'demandsSum', 'averageReceipt', 'returnsCount', 'returnsSum', 'discountsSum', 'balance',
    'profit', 'lastEventDate', 'lastEventText', 'updated', 'bonusBalance',
  ],
  'dashboard-day': [
    'sales.count', 'sales.amount', 'sales.movementAmount', 'orders.count', 'orders.amount', 'orders.movementAmount',
    'money.income', 'money.outcome', 'money.balance', 'money.todayMovement', 'money.movement',
  ],
  'dashboard-week': [
    'sales.count', 'sales.amount', 'sales.movementAmount', 'orders.count', 'orders.amount', 'orders.movementAmount',
    'money.income', 'money.outcome', 'money.balance', 'money.todayMovement', 'money.movement',
  ],
  'dashboard-month': [
    'sales.count', 'sales.amount', 'sales.movementAmount', 'orders.count', 'orders.amount', 'orders.movementAmount',
    'money.income', 'money.outcome', 'money.balance', 'money.todayMovement', 'money.movement',
  ],
  'counterparty': [
    'meta.id', 'meta.type', 'id', 'accountId', 'owner.meta.id', 'owner.meta.type', 'shared', 'group.meta.id',
    'group.meta.type', 'updated', 'name', 'externalCode', 'archived', 'created', 'companyType', 'description',
    'email', 'phone', 'inn', 'ogrnip', 'tags', 'salesAmount', 'accounts.meta.id', 'accounts.meta.type',
    'contactpersons.meta.id', 'contactpersons.meta.type', 'notes.meta.id', 'notes.meta.type', 'legalTitle', 'kpp',
    'legalAddress', 'legalAddressFull.postalCode', 'legalAddressFull.city', 'legalAddressFull.street',
    'legalAddressFull.house', 'legalAddressFull.addInfo', 'attributes', 'code', 'ogrn', 'legalFirstName',
    'legalLastName', 'sex', 'discounts', 'birthDate',
  ],
  'assortment': [
    'meta.id', 'meta.type', 'id', 'accountId', 'updated', 'name', 'code', 'externalCode', 'archived', 'article',
    'salePrices', 'barcodes', 'label', 'assortment.meta.id', 'assortment.meta.type', 'stock', 'reserve', 'inTransit',
    'quantity', 'owner.meta.id', 'owner.meta.type', 'shared', 'group.meta.id', 'group.meta.type', 'pathName', 'vat',
    'vatEnabled', 'useParentVat', 'effectiveVat', 'effectiveVatEnabled', 'uom.meta.id', 'uom.meta.type',
    'images.meta.id', 'images.meta.type', 'minPrice.value', 'minPrice.currency.meta.id',
    'minPrice.currency.meta.type', 'buyPrice.value', 'buyPrice.currency.meta.id', 'buyPrice.currency.meta.type',
    'weight', 'volume', 'variantsCount', 'isSerialTrackable', 'supplier.meta.id', 'supplier.meta.type',
    'characteristics', 'product.meta.id', 'product.meta.type', 'components.meta.id', 'components.meta.type',
  ],
};

/** Columns a `--split` export adds to every record (README.md, 'Periods'). */
const ADDED_COLUMNS: readonly string[] = ['period.from', 'period.to'];

/** The columns of a report, or undefined when the catalogue does not know them. */
export function reportColumns(spec: ReportSpec): readonly string[] | undefined {
  return REPORT_COLUMNS[spec.alias];
}

/** Each `--columns` name the report cannot produce, with up to three close names. */
export function unknownColumns(spec: ReportSpec, columns: readonly string[]): Array<{ name: string; near: string[] }> {
  const known = reportColumns(spec);
  if (!known) return [];
  return columns
    .filter((name) => !known.includes(name) && !ADDED_COLUMNS.includes(name))
    .map((name) => ({ name, near: closestNames(name, known) }));
}

function closestNames(name: string, known: readonly string[]): string[] {
  const lower = name.toLowerCase();
  const scored = known.map((k) => {
    const last = k.slice(k.lastIndexOf('.') + 1).toLowerCase();
    const tail = lower.slice(lower.lastIndexOf('.') + 1);
    // A right leaf under the wrong parent (`stock` for `stockByStore.stock`) is as close as a typo.
    const d = Math.min(editDistance(lower, k.toLowerCase()), last === tail ? 1 : Infinity);
    return { k, d };
  });
  const limit = Math.max(2, Math.floor(name.length / 3));
  return scored.filter((s) => s.d <= limit).sort((a, b) => a.d - b.d).slice(0, 3).map((s) => s.k);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
