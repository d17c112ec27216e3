/**
 * The catalogue of async-capable endpoints (docs/api-facts.md §5): one data table that says
 * where each result keeps its records and how they become CSV rows. Everything that needs to know
 * about a report's shape reads it from here.
 */

/** Where the records of a result file are. */
export type RecordsLocation =
  | 'rows' // the elements of the top-level `rows` array
  | 'series' // the elements of the top-level `series` array (plot series)
  | 'root'; // the whole body is one record (dashboards)

export interface ReportSpec {
  /** Short name used on the command line: `ms-async export stock-bystore`. */
  alias: string;
  /** API path under the base URL, without query. */
  path: string;
  title: string;
  /** Query parameters the API needs; missing ones are refused before any request. */
  required: readonly string[];
  records: RecordsLocation;
  /** The detail array a CSV explodes into one record per element (README.md "Output formats"). */
  explode?: string;
  /** Dotted column names holding money in kopecks (divided by 100 with --rubles). */
  money: readonly string[];
  /** Units one request costs against the rate limit (§3.2); 0 means the account's default. */
  weight: number;
  /** `meta.type` of the result (§5). */
  resultType?: string;
  /** Takes a period as `momentFrom`/`momentTo` (§5.3, §5.4, §5.6): `--period` and `--split` apply. */
  period?: true;
}

const PLOT_REQUIRED = ['momentFrom', 'momentTo', 'interval'] as const;
// biome-ignore format: short lists kept on few lines
const PROFIT_A_MONEY = [
  'sellPrice', 'sellCost', 'sellSum', 'sellCostSum',
  'returnPrice', 'returnCost', 'returnSum', 'returnCostSum', 'profit',
] as const;
// biome-ignore format: short lists kept on few lines
const PROFIT_B_MONEY = [
  'salesAvgCheck', 'sellSum', 'sellCostSum', 'returnAvgCheck', 'returnSum', 'returnCostSum', 'profit',
] as const;
// biome-ignore format: short lists kept on few lines
const DASHBOARD_MONEY = [
  'sales.amount', 'sales.movementAmount', 'orders.amount', 'orders.movementAmount',
  'money.income', 'money.outcome', 'money.balance', 'money.todayMovement', 'money.movement',
] as const;

// biome-ignore format: a data table reads best with one report per line
export const REPORTS: readonly ReportSpec[] = [
  { alias: 'stock-all', path: '/report/stock/all', title: 'Stock, extended', required: [], records: 'rows', money: ['price', 'salePrice'], weight: 5, resultType: 'stock' },
  { alias: 'stock-bystore', path: '/report/stock/bystore', title: 'Stock by store', required: [], records: 'rows', explode: 'stockByStore', money: [], weight: 5, resultType: 'stockbystore' },
  { alias: 'profit-byproduct', path: '/report/profit/byproduct', title: 'Profit by product', required: [], records: 'rows', money: PROFIT_A_MONEY, weight: 0, resultType: 'salesbyproduct', period: true },
  { alias: 'profit-byvariant', path: '/report/profit/byvariant', title: 'Profit by variant', required: [], records: 'rows', money: PROFIT_A_MONEY, weight: 0, resultType: 'salesbyvariant', period: true },
  { alias: 'profit-byemployee', path: '/report/profit/byemployee', title: 'Profit by employee', required: [], records: 'rows', money: PROFIT_B_MONEY, weight: 0, resultType: 'salesbyemployee', period: true },
  { alias: 'profit-bycounterparty', path: '/report/profit/bycounterparty', title: 'Profit by counterparty', required: [], records: 'rows', money: PROFIT_B_MONEY, weight: 0, resultType: 'salesbyCounterparty', period: true },
  { alias: 'profit-bysaleschannel', path: '/report/profit/bysaleschannel', title: 'Profit by sales channel', required: [], records: 'rows', money: PROFIT_B_MONEY, weight: 0, resultType: 'salesbysaleschannel', period: true },
  { alias: 'money-plotseries', path: '/report/money/plotseries', title: 'Money flow over time', required: PLOT_REQUIRED, records: 'series', money: ['credit', 'debit', 'balance'], weight: 0, resultType: 'moneyplotseries', period: true },
  { alias: 'money-byaccount', path: '/report/money/byaccount', title: 'Money balances by account', required: [], records: 'rows', money: ['balance'], weight: 0, resultType: 'moneyreport' },
  { alias: 'sales-plotseries', path: '/report/sales/plotseries', title: 'Sales over time', required: PLOT_REQUIRED, records: 'series', money: ['sum'], weight: 0, resultType: 'salesplotseries', period: true },
  { alias: 'orders-plotseries', path: '/report/orders/plotseries', title: 'Orders over time', required: PLOT_REQUIRED, records: 'series', money: ['sum'], weight: 0, resultType: 'ordersplotseries', period: true },
  { alias: 'counterparty-report', path: '/report/counterparty', title: 'Counterparty indicators', required: [], records: 'rows', money: ['demandsSum', 'averageReceipt', 'returnsSum', 'discountsSum', 'balance', 'profit'], weight: 0, resultType: 'counterparty' },
  { alias: 'dashboard-day', path: '/report/dashboard/day', title: 'Dashboard, today', required: [], records: 'root', money: DASHBOARD_MONEY, weight: 0 },
  { alias: 'dashboard-week', path: '/report/dashboard/week', title: 'Dashboard, this week', required: [], records: 'root', money: DASHBOARD_MONEY, weight: 0 },
  { alias: 'dashboard-month', path: '/report/dashboard/month', title: 'Dashboard, this month', required: [], records: 'root', money: DASHBOARD_MONEY, weight: 0 },
  { alias: 'counterparty', path: '/entity/counterparty', title: 'Counterparties (entity list)', required: [], records: 'rows', money: ['salesAmount'], weight: 0, resultType: 'counterparty' },
  { alias: 'assortment', path: '/entity/assortment', title: 'Assortment (entity list)', required: [], records: 'rows', money: ['minPrice.value', 'buyPrice.value'], weight: 0, resultType: 'assortment' },
];

export function findReportByAlias(alias: string): ReportSpec | undefined {
  return REPORTS.find((r) => r.alias === alias);
}

/** The catalogue entry for an API path (`/report/stock/bystore`), query and trailing slash ignored. */
export function findReportByPath(path: string): ReportSpec | undefined {
  const bare = (path.split('?')[0] ?? '').replace(/\/+$/, '');
  return REPORTS.find((r) => r.path === bare);
}
