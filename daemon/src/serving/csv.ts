/**
 * The CSV that MLflow's `/invocations` takes (`Content-Type: text/csv`): a header row of column
 * names, then one row per record; RFC 4180 quoting (`"a ""b"""`), CRLF or LF line ends.
 */
import { LatheError } from "../errors";

export function parseCsv(text: string): { columns: string[]; rows: string[][] } {
  const records = splitRecords(text.replace(/^\uFEFF/, ""));
  const [header, ...rows] = records.filter((r) => !(r.length === 1 && r[0] === ""));
  if (!header) {
    throw bad("The CSV body is empty; send a header row of column names, then one row per record.");
  }
  rows.forEach((row, i) => {
    if (row.length !== header.length) {
      throw bad(
        `CSV line ${i + 2} has ${row.length} fields; the header has ${header.length} (${header.join(", ")}).`,
      );
    }
  });
  return { columns: header.map((c) => c.trim()), rows };
}

function splitRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let isQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (isQuoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        isQuoted = false;
      } else {
        field += c;
      }
    } else if (c === '"' && field === "") {
      isQuoted = true;
    } else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") {
        i++;
      }
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else {
      field += c;
    }
  }
  if (isQuoted) {
    throw bad("The CSV body ends inside a quoted field; close its '\"'.");
  }
  if (field !== "" || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

function bad(message: string): LatheError {
  return new LatheError("LATHE_BAD_INPUT", message);
}
