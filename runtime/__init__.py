"""The GPU runtime: which model runs when and where, between the tasks that ask for models and the
model families in models/. The model host (host.py) schedules and loads; the memory plan
(memory_plan.py, memory_formulas.py) sizes each model for the card; residency.py and gpu_slot.py keep
one owner per GPU across processes and machines (slot_holders.py names who holds it)."""
