"""ram-gym agents: the Recurrent Attention Model (:mod:`agents.ram`) and baselines."""
