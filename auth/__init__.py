"""Portal users: password policy and hashing, the user table, lockouts, and the Streamlit sign-in."""
