/**
 * Rate limits shared by every node: fixed-window counters per (bucket, key). Rows of past windows
 * are deleted as new ones are written.
 */
export const sql = `
CREATE UNLOGGED TABLE rate_limit_counters (
  bucket        varchar(40) NOT NULL,
  key           varchar(300) NOT NULL,
  window_start  timestamptz NOT NULL,
  hits          integer NOT NULL,
  PRIMARY KEY (bucket, key, window_start)
);
CREATE INDEX rate_limit_counters_window ON rate_limit_counters (window_start);
`;
