INSERT INTO archive.validation_results
    (run_id, batch_key, suite, expectation, column_name, severity, success,
     element_count, unexpected_count, unexpected_sample, details)
VALUES %s
