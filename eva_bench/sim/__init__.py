"""The SAPIEN 3 simulation: embodiment spec, generated robot description, environment, cameras, objects, planner."""
