"""A local world to release into: GitHub, index and Slack stand-ins, and a sample family."""
