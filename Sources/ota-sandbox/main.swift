print("ota-sandbox")
