#ifndef OTA_CLIBPQ_SHIM_H
#define OTA_CLIBPQ_SHIM_H
#include <libpq-fe.h>

/* PG_DIAG_* are char macros ('C', 'M', ...) that Swift does not import. */
static inline int ota_pg_diag_sqlstate(void) { return PG_DIAG_SQLSTATE; }
static inline int ota_pg_diag_message_primary(void) { return PG_DIAG_MESSAGE_PRIMARY; }
static inline int ota_pg_diag_message_detail(void) { return PG_DIAG_MESSAGE_DETAIL; }
static inline int ota_pg_diag_message_hint(void) { return PG_DIAG_MESSAGE_HINT; }
static inline int ota_pg_diag_severity(void) { return PG_DIAG_SEVERITY_NONLOCALIZED; }
static inline int ota_pg_diag_schema_name(void) { return PG_DIAG_SCHEMA_NAME; }
static inline int ota_pg_diag_table_name(void) { return PG_DIAG_TABLE_NAME; }
static inline int ota_pg_diag_constraint_name(void) { return PG_DIAG_CONSTRAINT_NAME; }
static inline int ota_pg_diag_context(void) { return PG_DIAG_CONTEXT; }

#endif
