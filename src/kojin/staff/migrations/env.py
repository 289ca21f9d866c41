from kojin.core.migrations import run

run()
