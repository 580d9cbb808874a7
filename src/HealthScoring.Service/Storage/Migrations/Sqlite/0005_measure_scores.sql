-- Each daily snapshot keeps its measure scores, in the order of its scorecard version's measures, comma-separated,
-- empty for N/A: a backtest of the live scorecard reads them (each measure's AUC) instead of replaying history.
ALTER TABLE health_daily ADD COLUMN measure_scores TEXT NULL;
