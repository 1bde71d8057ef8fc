"""Use cases. Each public function owns its transaction: one commit, then side effects."""
