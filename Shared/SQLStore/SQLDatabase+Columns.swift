extension SQLDatabase {
    /// Adds the columns a table gained after a database was first created, each only where it is not there
    /// yet: `CREATE TABLE IF NOT EXISTS` leaves an older table as it was.
    public func addColumns(_ columns: [(table: String, definition: String)]) async throws {
        for column in columns {
            do {
                try await self.executeScript(
                    "ALTER TABLE \(column.table) ADD COLUMN \(self.dialect == .postgres ? "IF NOT EXISTS " : "")\(column.definition)"
                )
            } catch let error as SQLError where error.message.contains("duplicate column") {
                // SQLite has no IF NOT EXISTS for columns: the column is there already.
            }
        }
    }
}
