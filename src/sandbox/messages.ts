/**
 * Error texts of the sandbox, Russian by default and English with `Accept-Language: en`
 * (docs/api-facts.md §1.4, §4.3). `{name}` placeholders are filled from `args`.
 */

export type Lang = 'ru' | 'en';

const TEXTS: Record<number, { ru: string; en: string }> = {
  1002: { ru: 'Неопознанный путь: {path}', en: 'Unrecognised path: {path}' },
  1016: {
    ru: 'Доступ запрещен: у вас нет прав на просмотр данного объекта',
    en: 'Access denied: you have no permission to view this object',
  },
  1021: { ru: "Объект с UUID '{id}' не найден", en: "Object with UUID '{id}' not found" },
  1034: { ru: 'Ошибка фильтрации: {details}', en: 'Filtering error: {details}' },
  1035: {
    ru: "Неверный формат даты в фильтре '{value}', ожидается 'yyyy-MM-dd HH:mm:ss'",
    en: "Invalid date format in filter '{value}', expected 'yyyy-MM-dd HH:mm:ss'",
  },
  1040: { ru: 'Параметры запроса заданы неверно', en: 'Request parameters are set incorrectly' },
  1041: {
    ru: "Неверное значение '{value}' параметра фильтрации '{name}', допустимые значения: '{list}'",
    en: "Invalid value '{value}' of filter parameter '{name}', allowed: '{list}'",
  },
  1049: {
    ru: 'Превышено ограничение на количество запросов в единицу времени',
    en: 'Limit on the number of requests per unit of time exceeded',
  },
  1052: { ru: 'Неверный формат UUID', en: 'Invalid UUID format' },
  1056: { ru: 'Ошибка аутентификации: {details}', en: 'Authentication error: {details}' },
  1062: {
    ru: "Неверное значение заголовка 'Accept', поддерживается только 'application/json;charset=utf-8'",
    en: "Invalid 'Accept' header; only 'application/json;charset=utf-8' is supported",
  },
  1063: {
    ru: "Неизвестное поле или поле недоступно для сортировки: '{name}'",
    en: "Unknown or unsortable field '{name}'",
  },
  1073: {
    ru: 'Превышено ограничение на количество параллельных запросов',
    en: 'Limit on the number of simultaneous requests exceeded',
  },
  1085: {
    ru: 'Используемый тип авторизации не содержит информации о пользователе',
    en: 'The authorization type used carries no user information',
  },
  1999: { ru: 'Неизвестная ошибка', en: 'Unknown error' },
  2016: { ru: 'Ошибка формата JSON в теле запроса', en: 'Malformed JSON in the request body' },
  3052: {
    ru: "Конец периода '{to}' не может быть раньше начала '{from}'",
    en: "End of period '{to}' cannot be earlier than its start '{from}'",
  },
  30000: { ru: "Неподдерживаемый тип сущности: '{value}'", en: "Unsupported entity type: '{value}'" },
  30001: {
    ru: "Неизвестный HTTP метод: '{value}', допустим только POST",
    en: "Unknown HTTP method '{value}', only POST is allowed",
  },
  30002: {
    ru: "Неизвестное действие: '{value}'. Допустимые значения: CREATE, UPDATE, DELETE, PROCESSED",
    en: "Unknown action '{value}'. Allowed: CREATE, UPDATE, DELETE, PROCESSED",
  },
  30003: {
    ru: 'Вебхук с такими параметрами уже существует (entityType, action, url должны быть уникальны)',
    en: 'A webhook with these parameters already exists (entityType + action + url must be unique)',
  },
  30005: {
    ru: "Значение url '{value}' не является корректным http/https адресом",
    en: "The url '{value}' is not a valid http/https address",
  },
  30007: {
    ru: 'Нельзя создать более 5 вебхуков одного типа для сущности',
    en: 'No more than 5 webhooks of one kind per entity type',
  },
  30008: {
    ru: "Тип сущности '{entity}' не поддерживает действие '{value}', допустимые: PROCESSED, UPDATE",
    en: "Entity type '{entity}' does not support action '{value}', allowed: PROCESSED, UPDATE",
  },
  30009: {
    ru: "Поле 'diffType' не поддерживается для действия '{value}'",
    en: "'diffType' is not supported for action '{value}'",
  },
  30010: { ru: 'Длина url превышает 255 символов', en: 'The url is longer than 255 characters' },
  39000: {
    ru: 'Ошибка: не указан обязательный параметр для запроса показателей: {param}',
    en: 'Error: required parameter for the indicators request is missing: {param}',
  },
  39001: {
    ru: "Показатели с разбивкой по '{interval}' не поддерживаются для периода больше {limit}",
    en: "Indicators split by '{interval}' are not supported for a span longer than {limit}",
  },
  39002: {
    ru: "Неверное значение параметра 'interval'. Допустимые значения: 'hour', 'day', 'month'",
    en: "Invalid value of 'interval'; allowed: 'hour', 'day', 'month'",
  },
  61000: {
    ru: 'Ошибка при создании асинхронной задачи: эндпоинт не поддерживает асинхронный обмен',
    en: 'Cannot create async task: the endpoint does not support async exchange',
  },
  61001: {
    ru: "Ошибка при создании асинхронной задачи: параметры 'offset' и 'limit' не должны быть указаны в асинхронном запросе",
    en: "Cannot create async task: 'offset' and 'limit' must not be given in an async request",
  },
  61002: {
    ru: 'Ошибка при создании асинхронной задачи: превышено ограничение на количество одновременно выполняемых асинхронных операций',
    en: 'Cannot create async task: the limit on simultaneously executing async operations is exceeded',
  },
  61003: {
    ru: 'Ошибка при запросе результата асинхронной задачи: результат был удален',
    en: 'Cannot get async task result: the result has been deleted',
  },
  61004: {
    ru: 'Ошибка при запросе результата асинхронной задачи: задача завершилась с ошибкой',
    en: 'Cannot get async task result: the task ended with an error',
  },
  61005: {
    ru: 'Ошибка при запросе результата асинхронной задачи: задача была отменена',
    en: 'Cannot get async task result: the task was cancelled',
  },
  61006: {
    ru: 'Ошибка при запросе результата асинхронной задачи: результат еще не готов',
    en: 'Cannot get async task result: the result is not ready yet',
  },
  61007: {
    ru: 'Ошибка при отмене асинхронной задачи: задача уже завершена',
    en: 'Cannot cancel async task: the task has already finished',
  },
  61008: {
    ru: 'Ошибка при отправке асинхронной задачи: сервис отправки не отвечает',
    en: 'Cannot send async task: internal error',
  },
};

export interface ApiErrorObject {
  error: string;
  code: number;
  parameter?: string;
  moreInfo: string;
}

export function errorText(code: number, lang: Lang, args: Record<string, string> = {}): string {
  const entry = TEXTS[code];
  const template = entry ? entry[lang] : lang === 'en' ? 'Error' : 'Ошибка';
  return template.replace(/\{(\w+)\}/g, (_, key: string) => args[key] ?? '');
}

export function errorObject(
  code: number,
  lang: Lang,
  args: Record<string, string> = {},
  parameter?: string,
): ApiErrorObject {
  const object: ApiErrorObject = {
    error: errorText(code, lang, args),
    code,
    moreInfo: `https://dev.moysklad.ru/doc/api/remap/1.2/#error_${code}`,
  };
  if (parameter !== undefined) object.parameter = parameter;
  return object;
}

/** Picks ru or en from an Accept-Language header (q-values honoured; default ru). */
export function pickLanguage(header: string | undefined): Lang {
  if (!header) return 'ru';
  let best: Lang = 'ru';
  let bestQ = -1;
  for (const part of header.split(',')) {
    const [tag = '', ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.find((p) => p.trim().startsWith('q='));
    const q = qParam ? Number(qParam.trim().slice(2)) : 1;
    const lang = tag.startsWith('en') ? 'en' : tag.startsWith('ru') ? 'ru' : undefined;
    if (lang && q > bestQ) {
      best = lang;
      bestQ = q;
    }
  }
  return best;
}
