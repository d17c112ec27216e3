/**
 * What an export will ask the API for: the report request with `--period` turned into
 * momentFrom/momentTo and, with `--split`, one request per slice of the period. Checked before
 * anything is sent (exit 2), for `export` and for every job of a batch alike. Pure.
 */
import { UsageError } from '../errors.js';
import type { ReportSpec } from '../reports/catalog.js';
import {
  parsePeriod,
  parseSplitUnit,
  periodParams,
  splitPeriod,
  type Period,
  type SplitUnit,
} from '../reports/period.js';
import { buildReportRequest } from '../reports/request.js';

export interface ExportPlanInput {
  report: string;
  params?: ReadonlyArray<readonly [string, string]>;
  period?: string | undefined;
  split?: string | undefined;
  /** The real instant named periods count from. */
  now: number;
}

export interface PlannedSlice {
  period: Period;
  pathAndQuery: string;
}

export interface ExportPlan {
  spec: ReportSpec | undefined;
  /** The whole request (with the whole period, if any). */
  pathAndQuery: string;
  period?: Period;
  split?: SplitUnit;
  /** With --split: one request per slice, in period order. */
  slices?: PlannedSlice[];
}

/** More slices than this is almost surely a mistake (a year by day is 366 tasks). */
export const MAX_SLICES = 400;

export function planExport(input: ExportPlanInput): ExportPlan {
  const params = [...(input.params ?? [])];
  if (input.period === undefined) {
    if (input.split !== undefined) {
      throw new UsageError('--split needs --period: the period to cut into slices', {
        hint: 'e.g. --period 2026-01..2026-12 --split month',
      });
    }
    const built = buildReportRequest(input.report, params);
    return { spec: built.spec, pathAndQuery: built.pathAndQuery };
  }
  const probe = buildReportRequest(input.report, [...params, ['momentFrom', 'x'], ['momentTo', 'x']]);
  if (probe.spec?.period !== true) {
    throw new UsageError(`${probe.spec?.alias ?? input.report} takes no period (momentFrom/momentTo)`, {
      hint: 'run `ms-async reports --json` (field "period") to see which reports do',
    });
  }
  const clash = params.find(([key]) => key === 'momentFrom' || key === 'momentTo');
  if (clash) throw new UsageError(`--period sets momentFrom and momentTo: drop -p ${clash[0]}=…`);
  const period = parsePeriod(input.period, input.now);
  const build = (p: Period): string => {
    const { momentFrom, momentTo } = periodParams(p);
    return buildReportRequest(input.report, [...params, ['momentFrom', momentFrom], ['momentTo', momentTo]])
      .pathAndQuery;
  };
  const plan: ExportPlan = { spec: probe.spec, pathAndQuery: build(period), period };
  if (input.split === undefined) return plan;
  const unit = parseSplitUnit(input.split);
  const slices = splitPeriod(period, unit);
  if (slices.length > MAX_SLICES) {
    throw new UsageError(
      `--period ${input.period} --split ${unit} makes ${slices.length} tasks (at most ${MAX_SLICES})`,
      {
        hint: 'split by a longer unit, or export a shorter period',
      },
    );
  }
  return { ...plan, split: unit, slices: slices.map((slice) => ({ period: slice, pathAndQuery: build(slice) })) };
}
