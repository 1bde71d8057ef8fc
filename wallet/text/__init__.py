"""What a reader sees written: dates and numbers in their language, the glossary, French
typography, badge titles and verified origins."""
